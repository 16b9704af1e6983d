package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Colour names the ANPR screens add to Fyne's.
const (
	ColorNamePlate     fyne.ThemeColorName = "anprPlate"     // rear plate: yellow
	ColorNamePlateText fyne.ThemeColorName = "anprPlateText" // characters on a plate
	ColorNameDiff      fyne.ThemeColorName = "anprDiff"      // a look-alike character that differs
	ColorNameMarkExact fyne.ThemeColorName = "anprMarkExact" // ✓
	ColorNameTrack     fyne.ThemeColorName = "anprTrack"     // the car's track on the map
	ColorNameMapPaper  fyne.ThemeColorName = "anprMapPaper"  // the map's background without tiles
	ColorNameStatusBar fyne.ThemeColorName = "anprStatusBar"
	ColorNameAlarm     fyne.ThemeColorName = "anprAlarm"    // status bar when a part is lost
	ColorNameImageDim  fyne.ThemeColorName = "anprImageDim" // laid over camera pictures: dims them at night
)

// Theme is the app's look: large type and touch targets for gloved hands,
// and two palettes. Night is dark, dim and red-shifted, so the officer's
// eyes stay adapted to the road: no blue or white light at all.
type Theme struct {
	Night bool
}

var _ fyne.Theme = (*Theme)(nil)

// DayTheme and NightTheme are the two palettes.
var (
	DayTheme   fyne.Theme = &Theme{Night: false}
	NightTheme fyne.Theme = &Theme{Night: true}
)

var dayColors = map[fyne.ThemeColorName]color.Color{
	theme.ColorNameBackground:          rgb(0xf2, 0xf2, 0xf0),
	theme.ColorNameForeground:          rgb(0x10, 0x10, 0x10),
	theme.ColorNameButton:              rgb(0xdc, 0xdc, 0xd8),
	theme.ColorNameDisabledButton:      rgb(0xe6, 0xe6, 0xe4),
	theme.ColorNamePrimary:             rgb(0x0b, 0x4f, 0xa8),
	theme.ColorNameForegroundOnPrimary: rgb(0xff, 0xff, 0xff),
	theme.ColorNameInputBackground:     rgb(0xff, 0xff, 0xff),
	theme.ColorNameInputBorder:         rgb(0x9a, 0x9a, 0x9a),
	theme.ColorNameHeaderBackground:    rgb(0xe4, 0xe4, 0xe0),
	theme.ColorNameSeparator:           rgb(0xc8, 0xc8, 0xc4),
	theme.ColorNameSuccess:             rgb(0x1b, 0x7a, 0x2e),
	theme.ColorNameWarning:             rgb(0xc7, 0x7a, 0x00),
	theme.ColorNameError:               rgb(0xc0, 0x10, 0x10),
	ColorNamePlate:                     rgb(0xf7, 0xd1, 0x17),
	ColorNamePlateText:                 rgb(0x00, 0x00, 0x00),
	ColorNameDiff:                      rgb(0xe0, 0x10, 0x10),
	ColorNameMarkExact:                 rgb(0x1b, 0x7a, 0x2e),
	ColorNameTrack:                     rgb(0x0b, 0x4f, 0xa8),
	ColorNameMapPaper:                  rgb(0xfa, 0xf7, 0xee),
	ColorNameStatusBar:                 rgb(0x20, 0x24, 0x2c),
	ColorNameAlarm:                     rgb(0xb0, 0x10, 0x10),
}

// The night palette keeps every colour in reds and ambers, at low
// luminance: white and blue light ruin night vision.
var nightColors = map[fyne.ThemeColorName]color.Color{
	theme.ColorNameBackground:          rgb(0x0a, 0x02, 0x02),
	theme.ColorNameForeground:          rgb(0xb8, 0x40, 0x30),
	theme.ColorNameButton:              rgb(0x2a, 0x08, 0x06),
	theme.ColorNameDisabledButton:      rgb(0x18, 0x05, 0x04),
	theme.ColorNameDisabled:            rgb(0x58, 0x1c, 0x14),
	theme.ColorNamePrimary:             rgb(0x80, 0x1a, 0x10),
	theme.ColorNameForegroundOnPrimary: rgb(0xe0, 0x70, 0x50),
	theme.ColorNameHover:               rgb(0x3a, 0x0c, 0x08),
	theme.ColorNamePressed:             rgb(0x50, 0x10, 0x0a),
	theme.ColorNameFocus:               rgb(0x60, 0x14, 0x0c),
	theme.ColorNameSelection:           rgb(0x40, 0x0e, 0x08),
	theme.ColorNameInputBackground:     rgb(0x16, 0x04, 0x03),
	theme.ColorNameInputBorder:         rgb(0x50, 0x16, 0x10),
	theme.ColorNamePlaceHolder:         rgb(0x60, 0x22, 0x18),
	theme.ColorNameHeaderBackground:    rgb(0x14, 0x04, 0x03),
	theme.ColorNameMenuBackground:      rgb(0x14, 0x04, 0x03),
	theme.ColorNameOverlayBackground:   rgb(0x14, 0x04, 0x03),
	theme.ColorNameSeparator:           rgb(0x30, 0x0a, 0x08),
	theme.ColorNameScrollBar:           rgb(0x50, 0x14, 0x0c),
	theme.ColorNameShadow:              color.NRGBA{A: 0x80},
	theme.ColorNameSuccess:             rgb(0x8a, 0x6a, 0x10),
	theme.ColorNameWarning:             rgb(0xa0, 0x50, 0x10),
	theme.ColorNameError:               rgb(0xc0, 0x20, 0x10),
	theme.ColorNameForegroundOnError:   rgb(0xe8, 0x98, 0x70),
	theme.ColorNameHyperlink:           rgb(0xc0, 0x50, 0x30),
	ColorNamePlate:                     rgb(0x6a, 0x4a, 0x08),
	ColorNamePlateText:                 rgb(0x0a, 0x02, 0x02),
	ColorNameDiff:                      rgb(0xd0, 0x20, 0x10),
	ColorNameMarkExact:                 rgb(0xa0, 0x70, 0x10),
	ColorNameTrack:                     rgb(0xc0, 0x40, 0x20),
	ColorNameMapPaper:                  rgb(0x14, 0x05, 0x04),
	ColorNameStatusBar:                 rgb(0x16, 0x04, 0x03),
	ColorNameAlarm:                     rgb(0x70, 0x08, 0x04),
	ColorNameImageDim:                  color.NRGBA{R: 0x0a, G: 0x01, B: 0x01, A: 0xa8},
}

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{R: r, G: g, B: b, A: 0xff} }

// Color returns the palette's colour for n, falling back to Fyne's light or
// dark defaults.
func (t *Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	m, v := dayColors, theme.VariantLight
	if t.Night {
		m, v = nightColors, theme.VariantDark
	}
	if c, ok := m[n]; ok {
		return c
	}
	return theme.DefaultTheme().Color(n, v)
}

// Font returns Fyne's fonts.
func (t *Theme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

// Icon returns Fyne's icons.
func (t *Theme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

// Size makes text and targets larger than Fyne's desktop defaults: the
// tablet is read at arm's length and touched with gloves.
func (t *Theme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 20
	case theme.SizeNameHeadingText:
		return 30
	case theme.SizeNameSubHeadingText:
		return 24
	case theme.SizeNameCaptionText:
		return 15
	case theme.SizeNameInnerPadding:
		return 12
	case theme.SizeNamePadding:
		return 6
	case theme.SizeNameScrollBar:
		return 20
	case theme.SizeNameScrollBarSmall:
		return 8
	case theme.SizeNameInlineIcon:
		return 28
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return 6
	}
	return theme.DefaultTheme().Size(n)
}

// Colour returns a named colour of the theme now in use; under a theme
// that is not ours (a test theme) the day palette's.
func Colour(n fyne.ThemeColorName) color.Color {
	if th, ok := theme.Current().(*Theme); ok {
		return th.Color(n, theme.VariantLight)
	}
	if c, ok := dayColors[n]; ok {
		return c
	}
	return theme.Current().Color(n, theme.VariantLight)
}

// PriorityColour is the hit screen's background for a priority: red for 1,
// deep orange for 2, amber for 3–5, blue for 6–9; dimmed and red-shifted at
// night (the lower priorities go brown rather than blue).
func PriorityColour(p int, night bool) color.NRGBA {
	switch {
	case p <= 1:
		if night {
			return rgb(0x60, 0x06, 0x04)
		}
		return rgb(0xc4, 0x10, 0x16)
	case p == 2:
		if night {
			return rgb(0x58, 0x14, 0x04)
		}
		return rgb(0xd9, 0x4a, 0x0a)
	case p <= 5:
		if night {
			return rgb(0x4a, 0x22, 0x04)
		}
		return rgb(0xe8, 0xa0, 0x10)
	}
	if night {
		return rgb(0x30, 0x16, 0x10)
	}
	return rgb(0x1a, 0x5a, 0xb8)
}

// PriorityTextColour is legible on PriorityColour.
func PriorityTextColour(p int, night bool) color.NRGBA {
	if night {
		return rgb(0xe0, 0x80, 0x60)
	}
	if p >= 3 && p <= 5 {
		return rgb(0x10, 0x10, 0x10)
	}
	return rgb(0xff, 0xff, 0xff)
}
