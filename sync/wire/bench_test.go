package wire

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// BenchmarkDecodeBatch decodes gzip batches of reads without images, as the
// back office does for each upload.
func BenchmarkDecodeBatch(b *testing.B) {
	for _, n := range []int{500} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			batch := &Batch{ID: "b", Items: make([]Item, n)}
			t := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			for i := range batch.Items {
				h := 90.0
				batch.Items[i] = Item{Kind: KindRead, Read: &Read{ID: fmt.Sprintf("0b5e9a62-8c1d-4d7e-9f3a-%012d", i), VRM: "AB12CDE", Raw: "AB12 CDE",
					Confidence: 0.93, Candidates: []Candidate{{"AB12CDE", 0.93}, {"AB12CDF", 0.04}}, CharConfidences: []float64{0.99, 0.98, 0.97, 0.99, 0.95, 0.96, 0.97},
					Format: "gb-current", Time: t.Add(time.Duration(i) * time.Second), ClockSource: "gps", Camera: "front",
					Position: Position{Fix: "3d", Lat: 52.912345, Lon: -1.4712345, AgeMS: 200, SpeedMPS: 13.4, HeadingDeg: &h, HDOP: 0.9, Sats: 9}, PassID: "p"}}
			}
			var buf bytes.Buffer
			EncodeBatch(&buf, batch)
			body := buf.Bytes()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := DecodeBatch(bytes.NewReader(body), BatchContentType, "gzip"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "reads/s")
		})
	}
}
