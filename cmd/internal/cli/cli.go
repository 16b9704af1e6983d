// Package cli is the command-line frame both binaries share: usage errors
// and their exit status, help, one-sentence error reports and flag sets.
//
// Exit status: 0 success, 1 operational failure, 2 bad usage or bad input.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrHelp is returned by a subcommand that printed its own help.
var ErrHelp = errors.New("help shown")

// UsageError marks bad usage or bad input: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// BadUsage returns an error that exits with status 2.
func BadUsage(format string, a ...any) error { return UsageError{fmt.Errorf(format, a...)} }

// AsUsage wraps err so that it exits with status 2; nil stays nil.
func AsUsage(err error) error {
	if err == nil {
		return nil
	}
	return UsageError{err}
}

// Report maps a subcommand's error to an exit status, writing any error to
// w as one sentence after prefix ("anpr hotlist").
func Report(w io.Writer, prefix string, err error) int {
	if err == nil || errors.Is(err, ErrHelp) {
		return 0
	}
	fmt.Fprintf(w, "%s: %s\n", prefix, Sentence(err.Error()))
	var ue UsageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// Sentence ends an error message with a full stop.
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// NewFlags returns a flag set for subcommand name of program prog whose -h
// prints "Usage: prog usage" and the flags to w, and which prints nothing
// else itself: the caller turns its errors into usage errors.
func NewFlags(prog, name, usage string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: %s %s\n\n", prog, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}
