// Package localefix keeps Fyne from logging "Error parsing user locale C" on
// every run under the C.UTF-8 locale that minimal Debian systems and CI use.
//
// Fyne's lang package reads the locale in its init: LC_ALL, LC_MESSAGES or
// LANG, then LANGUAGE unless the first is exactly "C" or "POSIX". "C.UTF-8"
// slips past that check and fails to parse as a language tag. When the
// locale is C.* or POSIX.* and LANGUAGE is unset, this package sets LANGUAGE
// to en_GB, which only gettext and Fyne's translations read.
//
// It must run before Fyne's init: it imports only os and strings, and Go
// initialises packages that do not depend on each other in import-path order,
// so it runs before golang.org/x/text, on which Fyne's lang package depends.
// TestLocaleQuiet in cmd/anpr checks that it still does.
package localefix

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	loc := ""
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = os.Getenv(env); loc != "" {
			break
		}
	}
	if strings.HasPrefix(loc, "C.") || strings.HasPrefix(loc, "POSIX.") {
		os.Setenv("LANGUAGE", "en_GB")
	}
}
