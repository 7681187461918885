// Package falsesharing shows false sharing: goroutines that each update
// only their own counter still slow each other down when the counters sit
// in the same cache line, because every atomic write takes the whole line
// away from the other cores.
package falsesharing

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// cacheLine is the padding unit. Lines are 64 bytes on current x86 and
// arm64 cores, but Intel's adjacent-line prefetcher pulls lines in pairs,
// so counters are kept 128 bytes apart.
const cacheLine = 128

// MaxWorkers is the number of counters each set holds.
const MaxWorkers = 16

// Unpadded holds one counter per worker, packed next to each other: eight
// of them share one 64-byte cache line.
type Unpadded struct {
	n [MaxWorkers]uint64
}

// padded is one counter alone in its own cache line(s).
type padded struct {
	n uint64
	_ [cacheLine - 8]byte
}

// Padded holds one counter per worker, each in its own cache line.
type Padded struct {
	_ [cacheLine]byte // keep the first counter off whatever precedes it
	n [MaxWorkers]padded
}

// Counters is the interface the benchmarks drive.
type Counters interface {
	// Add adds 1 to counter i, iters times.
	Add(i, iters int)
	// Total is the sum of all counters.
	Total() uint64
}

// Add increments counter i iters times. The atomic add forces every
// increment to memory, as a shared counter updated from several
// goroutines would be; the compiler cannot keep it in a register.
//
//go:noinline
func (c *Unpadded) Add(i, iters int) {
	p := &c.n[i]
	for k := 0; k < iters; k++ {
		atomic.AddUint64(p, 1)
	}
}

// Total returns the sum of all counters.
func (c *Unpadded) Total() uint64 {
	var t uint64
	for i := range c.n {
		t += atomic.LoadUint64(&c.n[i])
	}
	return t
}

// Add increments counter i iters times (same loop as Unpadded.Add).
//
//go:noinline
func (c *Padded) Add(i, iters int) {
	p := &c.n[i].n
	for k := 0; k < iters; k++ {
		atomic.AddUint64(p, 1)
	}
}

// Total returns the sum of all counters.
func (c *Padded) Total() uint64 {
	var t uint64
	for i := range c.n {
		t += atomic.LoadUint64(&c.n[i].n)
	}
	return t
}

// Workers is the number of goroutines the benchmarks use: one per CPU
// Go may run on, at least 2 (false sharing needs two writers) and at most
// MaxWorkers.
func Workers() int {
	w := runtime.GOMAXPROCS(0)
	if w < 2 {
		w = 2
	}
	if w > MaxWorkers {
		w = MaxWorkers
	}
	return w
}

// Run starts workers goroutines; goroutine i adds iters to counter i.
// It returns when all are done.
func Run(c Counters, workers, iters int) {
	if workers < 1 || workers > MaxWorkers {
		panic("falsesharing: workers out of range")
	}
	var wg sync.WaitGroup
	wg.Add(workers)
	for i := 0; i < workers; i++ {
		go func(i int) {
			defer wg.Done()
			c.Add(i, iters)
		}(i)
	}
	wg.Wait()
}
