// Package branchprediction shows the cost of mispredicted branches: the
// same loop over the same values runs several times faster when the values
// are sorted, because the branch inside it then goes the same way for long
// stretches and the CPU's predictor guesses it right.
package branchprediction

import (
	"math/rand"
	"sort"
)

// Threshold splits the values: about half of uniformly random bytes are
// at or above it.
const Threshold = 128

// Data returns n pseudo-random values in [0, 256), the same for a given
// seed.
func Data(n int, seed int64) []int32 {
	r := rand.New(rand.NewSource(seed))
	d := make([]int32, n)
	for i := range d {
		d[i] = int32(r.Intn(256))
	}
	return d
}

// Sorted returns a sorted copy of d.
func Sorted(d []int32) []int32 {
	s := append([]int32(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// Filter copies the values of d at or above Threshold to out and returns
// how many it copied. The copy is conditional: the compiler turns a
// conditional add into a branch-free CMOV, but a conditional store must
// stay a real branch, whose direction depends on the data.
//
//go:noinline
func Filter(d, out []int32) int {
	out = out[:len(d)]
	n := 0
	for _, v := range d {
		if v >= Threshold {
			out[n] = v
			n++
		}
	}
	return n
}

// FilterBranchless does the same work without a data-dependent branch: it
// always stores, and advances the output index by 0 or 1 computed with
// arithmetic. It runs at the same speed whatever the order of the data.
//
//go:noinline
func FilterBranchless(d, out []int32) int {
	out = out[:len(d)+1]
	n := 0
	for _, v := range d {
		out[n] = v
		// (Threshold-1-v) is negative exactly when v >= Threshold; the
		// arithmetic shift turns its sign bit into 0 or 1.
		n += int(uint32(Threshold-1-v) >> 31)
	}
	return n
}
