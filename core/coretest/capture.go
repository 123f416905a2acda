package coretest

import (
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
)

// SyncBuffer is a goroutine-safe io.Writer that keeps what is written, for
// capturing log output in tests.
type SyncBuffer struct {
	mu sync.Mutex
	b  []byte
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// DebugLogger returns a debug-level text logger writing into a new
// SyncBuffer, so a test can check that no secret reaches a log line.
func DebugLogger() (*slog.Logger, *SyncBuffer) {
	buf := &SyncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// BodyCountingTransport is an http.RoundTripper over http.DefaultTransport
// that counts the response body bytes the client reads, so a test can
// show that a huge answer was not read past a limit.
type BodyCountingTransport struct{ n atomic.Int64 }

// Read returns how many body bytes were read so far.
func (c *BodyCountingTransport) Read() int64 { return c.n.Load() }

// RoundTrip implements http.RoundTripper.
func (c *BodyCountingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.n}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
