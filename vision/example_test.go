package vision_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/vision"
)

// A car with a front and a rear camera: one pipeline (and tracker) per
// camera sharing one set of models, their sightings fanned into the engine.
func Example() {
	ctx := context.Background()
	vision.SetThreads(0)                 // OpenCV: one thread per CPU
	models, err := vision.LoadModels("") // the models built into the binary
	if err != nil {
		fmt.Println(err) // names the missing model file
		return
	}
	defer models.Close()

	sightings := make(chan app.Sighting)
	var wg sync.WaitGroup
	for id, uri := range map[string]string{"front": "/dev/video0", "rear": "rtsp://10.0.0.12/stream1"} {
		p := vision.NewPipeline(vision.NewSource(uri, id), models, vision.RegionGB)
		if err := p.Start(ctx); err != nil {
			fmt.Println(err)
			return
		}
		defer p.Stop()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range p.Sightings() { // one per vehicle pass; blocks, never drops
				sightings <- s
			}
		}()
	}
	go func() { wg.Wait(); close(sightings) }()
	for s := range sightings {
		fmt.Println(s.Camera, s.Text, s.Format, s.Confidence, s.Frames)
	}
}
