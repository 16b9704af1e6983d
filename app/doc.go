// Package app holds the in-car domain: reads, sightings, positions, hot-list
// entries, matches, hits, officer decisions and the audit trail, plus the
// small interfaces the engine consumes. It imports only the standard library;
// every technology (SQLite, OpenCV, NMEA, Fyne, HTTP) lives in a subpackage or
// sibling package that adapts to these types.
package app
