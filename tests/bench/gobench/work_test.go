// A mixed Go workload for the converter benchmark: reflection-heavy JSON,
// sorting, maps, formatting and hashing give deep, varied call stacks like
// a real service benchmark's.
package perfgobench

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

type item struct {
	Name  string            `json:"name"`
	Score float64           `json:"score"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
}

func makeItems(n int) []item {
	items := make([]item, n)
	for i := range items {
		items[i] = item{
			Name:  fmt.Sprintf("item-%d", i),
			Score: float64((i * 7919) % 1000),
			Tags:  []string{"a", "b", strings.Repeat("c", i%5)},
			Attrs: map[string]string{"k": fmt.Sprint(i), "z": "v"},
		}
	}
	return items
}

var sink int

func BenchmarkJSON(b *testing.B) {
	items := makeItems(200)
	for i := 0; i < b.N; i++ {
		data, _ := json.Marshal(items)
		var back []item
		_ = json.Unmarshal(data, &back)
		sink += len(back)
	}
}

func BenchmarkSort(b *testing.B) {
	items := makeItems(2000)
	for i := 0; i < b.N; i++ {
		s := append([]item(nil), items...)
		sort.Slice(s, func(x, y int) bool { return s[x].Score < s[y].Score || s[x].Name < s[y].Name })
		sink += len(s)
	}
}

func BenchmarkMap(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m := make(map[string]int)
		for j := 0; j < 2000; j++ {
			m[fmt.Sprintf("key-%d", j%700)] += j
		}
		sink += len(m)
	}
}

func BenchmarkHash(b *testing.B) {
	buf := []byte(strings.Repeat("perfgo", 1000))
	for i := 0; i < b.N; i++ {
		sum := sha256.Sum256(buf)
		sink += int(sum[0])
	}
}
