package falsesharing

import (
	"testing"
	"unsafe"
)

func TestLayout(t *testing.T) {
	var u Unpadded
	var p Padded
	if d := uintptr(unsafe.Pointer(&u.n[1])) - uintptr(unsafe.Pointer(&u.n[0])); d != 8 {
		t.Errorf("unpadded counters are %d bytes apart, want 8 (same cache line)", d)
	}
	if d := uintptr(unsafe.Pointer(&p.n[1].n)) - uintptr(unsafe.Pointer(&p.n[0].n)); d < 64 {
		t.Errorf("padded counters are %d bytes apart, want at least one 64-byte line", d)
	}
}

func TestCountsAreExact(t *testing.T) {
	iters := 100000
	if testing.Short() {
		iters = 10000
	}
	for _, c := range []struct {
		name string
		c    Counters
	}{{"unpadded", &Unpadded{}}, {"padded", &Padded{}}} {
		w := Workers()
		Run(c.c, w, iters)
		if got, want := c.c.Total(), uint64(w*iters); got != want {
			t.Errorf("%s: total %d, want %d", c.name, got, want)
		}
	}
}

// Each benchmark op is one increment done by every worker at the same
// time, so ns/op is comparable between the two layouts.
func benchmark(b *testing.B, c Counters) {
	b.ReportAllocs()
	Run(c, Workers(), b.N)
	if c.Total() != uint64(Workers()*b.N) {
		b.Fatal("lost increments")
	}
}

func BenchmarkUnpadded(b *testing.B) { benchmark(b, &Unpadded{}) }

func BenchmarkPadded(b *testing.B) { benchmark(b, &Padded{}) }
