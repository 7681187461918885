package branchprediction

import (
	"sort"
	"testing"
)

const size = 1 << 16 // 64K values: 256 KiB, so memory is not the bottleneck

func reference(d []int32) []int32 {
	var r []int32
	for _, v := range d {
		if v >= Threshold {
			r = append(r, v)
		}
	}
	return r
}

func TestFilterKeepsExactlyTheLargeValues(t *testing.T) {
	d := Data(10000, 1)
	s := Sorted(d)
	if !sort.SliceIsSorted(s, func(i, j int) bool { return s[i] < s[j] }) {
		t.Fatal("Sorted did not sort")
	}
	for _, c := range []struct {
		name string
		in   []int32
		f    func(d, out []int32) int
	}{
		{"Filter/random", d, Filter},
		{"Filter/sorted", s, Filter},
		{"FilterBranchless/random", d, FilterBranchless},
		{"FilterBranchless/sorted", s, FilterBranchless},
	} {
		out := make([]int32, len(c.in)+1)
		n := c.f(c.in, out)
		want := reference(c.in)
		if n != len(want) {
			t.Fatalf("%s: kept %d values, want %d", c.name, n, len(want))
		}
		for i := range want {
			if out[i] != want[i] {
				t.Fatalf("%s: out[%d] = %d, want %d", c.name, i, out[i], want[i])
			}
		}
	}
	if n := len(reference(d)); n < 4000 || n > 6000 {
		t.Errorf("%d of 10000 random values pass the threshold, want about half", n)
	}
}

var (
	sink       int
	randomData = Data(size, 1)
	sortedData = Sorted(randomData)
)

func benchmark(b *testing.B, sorted bool, f func(d, out []int32) int) {
	d := randomData
	if sorted {
		d = sortedData
	}
	out := make([]int32, len(d)+1)
	b.SetBytes(int64(len(d) * 4))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink += f(d, out)
	}
}

func BenchmarkFilterRandom(b *testing.B) { benchmark(b, false, Filter) }

func BenchmarkFilterSorted(b *testing.B) { benchmark(b, true, Filter) }

func BenchmarkBranchlessRandom(b *testing.B) { benchmark(b, false, FilterBranchless) }

func BenchmarkBranchlessSorted(b *testing.B) { benchmark(b, true, FilterBranchless) }
