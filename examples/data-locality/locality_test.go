package datalocality

import "testing"

func TestSumsAgree(t *testing.T) {
	const n = 300
	m := NewMatrix(n)
	want := int64(n*n) * int64(n*n-1) / 2 // 0 + 1 + ... + n*n-1
	if got := SumRowMajor(m); got != want {
		t.Errorf("SumRowMajor = %d, want %d", got, want)
	}
	if got := SumColumnMajor(m); got != want {
		t.Errorf("SumColumnMajor = %d, want %d", got, want)
	}
	seq, rnd := SequentialIndex(n*n), RandomIndex(n*n, 1)
	if got := Gather(m.Data, seq); got != want {
		t.Errorf("Gather(sequential) = %d, want %d", got, want)
	}
	if got := Gather(m.Data, rnd); got != want {
		t.Errorf("Gather(random) = %d, want %d", got, want)
	}
}

func TestRandomIndexIsAPermutation(t *testing.T) {
	idx := RandomIndex(1000, 7)
	seen := make([]bool, len(idx))
	moved := 0
	for i, v := range idx {
		if seen[v] {
			t.Fatalf("index %d appears twice", v)
		}
		seen[v] = true
		if int(v) != i {
			moved++
		}
	}
	if moved < 900 {
		t.Errorf("only %d of 1000 positions moved; not shuffled", moved)
	}
}

// 2048 x 2048 int64 is 32 MiB, larger than this machine's L2 (2 MiB per
// core) and close to its L3, so the access order decides the speed.
const side = 2048

var (
	sink   int64
	matrix *Matrix
	seq    []int32
	rnd    []int32
)

func setup(b *testing.B) {
	if matrix == nil {
		matrix = NewMatrix(side)
		seq = SequentialIndex(side * side)
		rnd = RandomIndex(side*side, 1)
	}
	b.SetBytes(int64(side * side * 8))
	b.ResetTimer()
}

func BenchmarkRowMajor(b *testing.B) {
	setup(b)
	for i := 0; i < b.N; i++ {
		sink += SumRowMajor(matrix)
	}
}

func BenchmarkColumnMajor(b *testing.B) {
	setup(b)
	for i := 0; i < b.N; i++ {
		sink += SumColumnMajor(matrix)
	}
}

func BenchmarkGatherSequential(b *testing.B) {
	setup(b)
	for i := 0; i < b.N; i++ {
		sink += Gather(matrix.Data, seq)
	}
}

func BenchmarkGatherRandom(b *testing.B) {
	setup(b)
	for i := 0; i < b.N; i++ {
		sink += Gather(matrix.Data, rnd)
	}
}
