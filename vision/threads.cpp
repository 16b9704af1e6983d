// cv::setNumThreads is not wrapped by gocv v0.31.0; this is the whole shim.
#include <opencv2/core.hpp>
#include "threads.h"

void anpr_set_num_threads(int n) { cv::setNumThreads(n); }
int anpr_get_num_threads(void) { return cv::getNumThreads(); }
