// Package datalocality shows how much the order of memory accesses
// matters: summing the same numbers costs several times more when each
// access lands on a different cache line (column-major walk of a row-major
// matrix, or a random permutation) than when the accesses run through
// memory sequentially and every 64-byte line serves eight values.
package datalocality

import "math/rand"

// Matrix is an n x n matrix of int64 stored row by row (row-major), as Go
// and C lay out arrays: element (r, c) is at index r*N + c.
type Matrix struct {
	N    int
	Data []int64
}

// NewMatrix returns an n x n matrix whose element (r, c) is r*n + c.
func NewMatrix(n int) *Matrix {
	m := &Matrix{N: n, Data: make([]int64, n*n)}
	for i := range m.Data {
		m.Data[i] = int64(i)
	}
	return m
}

// SumRowMajor sums the matrix row by row: consecutive accesses are
// neighbours in memory.
//
//go:noinline
func SumRowMajor(m *Matrix) int64 {
	var s int64
	n, d := m.N, m.Data
	for r := 0; r < n; r++ {
		row := d[r*n : r*n+n]
		for c := range row {
			s += row[c]
		}
	}
	return s
}

// SumColumnMajor sums the same matrix column by column: consecutive
// accesses are N*8 bytes apart, so each one needs a different cache line
// (and for large N, a different page and TLB entry).
//
//go:noinline
func SumColumnMajor(m *Matrix) int64 {
	var s int64
	n, d := m.N, m.Data
	for c := 0; c < n; c++ {
		for r := 0; r < n; r++ {
			s += d[r*n+c]
		}
	}
	return s
}

// SequentialIndex returns 0, 1, ..., n-1.
func SequentialIndex(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

// RandomIndex returns a pseudo-random permutation of 0..n-1, the same for
// a given seed.
func RandomIndex(n int, seed int64) []int32 {
	idx := SequentialIndex(n)
	r := rand.New(rand.NewSource(seed))
	r.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	return idx
}

// Gather sums data[idx[0]], data[idx[1]], ... The instructions are the
// same whatever idx holds; only the order of the memory accesses changes.
//
//go:noinline
func Gather(data []int64, idx []int32) int64 {
	var s int64
	for _, i := range idx {
		s += data[i]
	}
	return s
}
