package loadtest

import (
	"math/bits"
	"time"
)

// Histogram records durations: exactly below 1,024 ns, and above that in
// 64 buckets per power of two (within 1.6%). The zero value is empty. It
// is not safe for concurrent use; give each goroutine its own and Merge.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

const (
	histExact   = 1024 // durations below this many ns have a bucket each
	histSub     = 64   // buckets per power of two above histExact
	histSubBits = 6
	histBuckets = histExact + (63-10)*histSub
)

func histBucket(ns int64) int {
	if ns < histExact {
		if ns < 0 {
			return 0
		}
		return int(ns)
	}
	e := bits.Len64(uint64(ns)) - 1 // ≥ 10
	sub := int(ns>>(e-histSubBits)) & (histSub - 1)
	return histExact + (e-10)*histSub + sub
}

// histLow is the smallest duration, in ns, that falls in bucket b.
func histLow(b int) int64 {
	if b < histExact {
		return int64(b)
	}
	e := (b-histExact)/histSub + 10
	sub := int64((b - histExact) % histSub)
	return 1<<e + sub<<(e-histSubBits)
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	h.counts[histBucket(int64(d))]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

// Merge adds o's durations to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Mean returns the mean duration, or 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Max returns the largest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// CountAbove returns how many durations were at least d (to the bucket).
func (h *Histogram) CountAbove(d time.Duration) uint64 {
	var n uint64
	for b := histBucket(int64(d)); b < histBuckets; b++ {
		n += h.counts[b]
	}
	return n
}

// Quantile returns the q-quantile (0 < q ≤ 1) as the lower bound of its
// bucket, or 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank == 0 {
		rank = 1
	}
	var cum uint64
	for b, c := range h.counts {
		cum += c
		if cum >= rank {
			return time.Duration(histLow(b))
		}
	}
	return h.max
}
