package main

import (
	"strings"
	"testing"
	"time"
)

// chanWriter hands each write to a channel.
type chanWriter chan string

func (c chanWriter) Write(p []byte) (int, error) {
	c <- string(p)
	return len(p), nil
}

// On a terminal the spinner redraws one line with a countdown to the
// deadline, and clears it when stopped; elsewhere it writes one line.
func TestSpinnerCountdown(t *testing.T) {
	w := make(chanWriter, 100)
	s := &spinner{w: w, tty: true}
	s.start("Waiting for you to approve", time.Now().Add(90*time.Second))
	var frames []string
	timeout := time.After(10 * time.Second)
	for len(frames) < 3 {
		select {
		case f := <-w:
			frames = append(frames, f)
		case <-timeout:
			t.Fatalf("3 frames not drawn within 10 s: %q", frames)
		}
	}
	go func(w chanWriter) {
		for range w { // keep the spinner unblocked until it stops
		}
	}(w)
	s.stop()
	close(w)
	for _, f := range frames {
		if !strings.HasPrefix(f, "\r") || !strings.Contains(f, "Waiting for you to approve…") || !strings.Contains(f, "s left)") {
			t.Fatalf("frame %q: want a redrawn line with a countdown", f)
		}
	}
	if frames[0] == frames[1] && frames[1] == frames[2] {
		t.Fatalf("the spinner does not turn: %q", frames)
	}

	w = make(chanWriter, 100)
	s = &spinner{w: w, tty: false}
	s.start("Waiting", time.Time{})
	s.stop()
	close(w)
	var out []string
	for f := range w {
		out = append(out, f)
	}
	if strings.Join(out, "") != "Waiting…\n" {
		t.Fatalf("not a terminal: %q", out)
	}
}
