package vision

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include "threads.h"
*/
import "C"

// SetThreads sets how many worker threads OpenCV uses for every later call
// in this process (cv::setNumThreads; gocv v0.31.0 does not wrap it). n = 1
// runs each DNN forward pass and image operation on the calling thread, which
// is what a one-core budget wants; n <= 0 restores OpenCV's default (one per
// CPU). It is process-wide, so set it once at start-up.
func SetThreads(n int) {
	if n <= 0 {
		n = -1 // OpenCV: reset to the default
	}
	C.anpr_set_num_threads(C.int(n))
}

// Threads reports how many worker threads OpenCV will use.
func Threads() int { return int(C.anpr_get_num_threads()) }
