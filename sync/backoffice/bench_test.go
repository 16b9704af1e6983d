package backoffice_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/wire"
)

// BenchmarkIngest stores batches of reads without images, idempotency on.
// bench/backoffice measures the same at scale and over HTTP.
func BenchmarkIngest(b *testing.B) {
	for _, kind := range storetest.Kinds {
		for _, n := range []int{100, 500} {
			b.Run(fmt.Sprintf("%s/n=%d", kind, n), func(b *testing.B) {
				s := storetest.Open(b, kind)
				ctx := context.Background()
				start := time.Now()
				reads := 0
				for i := range b.N {
					items := make([]wire.Item, n)
					for j := range items {
						items[j] = read(fmt.Sprintf("b%d-%d", i, j), fmt.Sprintf("AB%02dCDE", j%100), now.Add(-time.Duration(j)*time.Second))
						items[j].Read.Patch = nil
					}
					if _, err := s.Ingest(ctx, "car-1", items, now); err != nil {
						b.Fatal(err)
					}
					reads += n
				}
				b.ReportMetric(float64(reads)/time.Since(start).Seconds(), "reads/s")
			})
		}
	}
}
