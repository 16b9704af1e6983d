// Package mock provides a ui.Backend whose every method is a func field, for
// tests and for rendering screenshots without an engine.
package mock

import (
	"context"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
)

var _ ui.Backend = (*Backend)(nil)

// Backend implements ui.Backend with func fields. A nil field gives a zero
// answer (no events, no hits, no tiles), so a test sets only what it uses.
type Backend struct {
	SubscribeFn           func(buf int) *app.Subscription
	UnsubscribeFn         func(s *app.Subscription)
	PendingFn             func() []app.PendingHit
	StatusFn              func() []app.PartStatus
	AuthenticateOfficerFn func(ctx context.Context, id, pin string) (app.Officer, error)
	LogOnFn               func(o app.Officer)
	AcknowledgeFn         func(readID string) error
	DecideFn              func(ctx context.Context, d app.Decision) error
	CheckFn               func(ctx context.Context, vrm string) ([]app.Match, error)
	AddWantedFn           func(ctx context.Context, e app.HotlistEntry) (app.HotlistEntry, int, error)
	ShiftReadsFn          func(ctx context.Context, q ui.ReadQuery) ([]ui.ReadRecord, error)
	AuthenticateAdminFn   func(ctx context.Context, pin string) error
	SettingsFn            func(ctx context.Context) (ui.Settings, error)
	SaveSettingsFn        func(ctx context.Context, s ui.Settings) (string, error)
	ImportHotlistFn       func(ctx context.Context, path, list string, progress func(done, total int)) (int, error)
	TileFn                func(z, x, y int) ([]byte, error)
	AtFn                  func(t time.Time) app.Position
	LatestFrameFn         func() (ui.Frame, bool)
}

// Subscribe calls SubscribeFn; without one it returns a subscription that
// never delivers.
func (b *Backend) Subscribe(buf int) *app.Subscription {
	if b.SubscribeFn != nil {
		return b.SubscribeFn(buf)
	}
	return &app.Subscription{}
}

// Unsubscribe calls UnsubscribeFn.
func (b *Backend) Unsubscribe(s *app.Subscription) {
	if b.UnsubscribeFn != nil {
		b.UnsubscribeFn(s)
	}
}

// Pending calls PendingFn.
func (b *Backend) Pending() []app.PendingHit {
	if b.PendingFn != nil {
		return b.PendingFn()
	}
	return nil
}

// Status calls StatusFn.
func (b *Backend) Status() []app.PartStatus {
	if b.StatusFn != nil {
		return b.StatusFn()
	}
	return nil
}

// AuthenticateOfficer calls AuthenticateOfficerFn.
func (b *Backend) AuthenticateOfficer(ctx context.Context, id, pin string) (app.Officer, error) {
	if b.AuthenticateOfficerFn != nil {
		return b.AuthenticateOfficerFn(ctx, id, pin)
	}
	return app.Officer{ID: id}, nil
}

// LogOn calls LogOnFn.
func (b *Backend) LogOn(o app.Officer) {
	if b.LogOnFn != nil {
		b.LogOnFn(o)
	}
}

// Acknowledge calls AcknowledgeFn.
func (b *Backend) Acknowledge(readID string) error {
	if b.AcknowledgeFn != nil {
		return b.AcknowledgeFn(readID)
	}
	return nil
}

// Decide calls DecideFn.
func (b *Backend) Decide(ctx context.Context, d app.Decision) error {
	if b.DecideFn != nil {
		return b.DecideFn(ctx, d)
	}
	return nil
}

// Check calls CheckFn.
func (b *Backend) Check(ctx context.Context, vrm string) ([]app.Match, error) {
	if b.CheckFn != nil {
		return b.CheckFn(ctx, vrm)
	}
	return nil, nil
}

// AddWanted calls AddWantedFn.
func (b *Backend) AddWanted(ctx context.Context, e app.HotlistEntry) (app.HotlistEntry, int, error) {
	if b.AddWantedFn != nil {
		return b.AddWantedFn(ctx, e)
	}
	return e, 0, nil
}

// ShiftReads calls ShiftReadsFn.
func (b *Backend) ShiftReads(ctx context.Context, q ui.ReadQuery) ([]ui.ReadRecord, error) {
	if b.ShiftReadsFn != nil {
		return b.ShiftReadsFn(ctx, q)
	}
	return nil, nil
}

// AuthenticateAdmin calls AuthenticateAdminFn.
func (b *Backend) AuthenticateAdmin(ctx context.Context, pin string) error {
	if b.AuthenticateAdminFn != nil {
		return b.AuthenticateAdminFn(ctx, pin)
	}
	return nil
}

// Settings calls SettingsFn.
func (b *Backend) Settings(ctx context.Context) (ui.Settings, error) {
	if b.SettingsFn != nil {
		return b.SettingsFn(ctx)
	}
	return ui.Settings{RetentionDays: 365}, nil
}

// SaveSettings calls SaveSettingsFn.
func (b *Backend) SaveSettings(ctx context.Context, s ui.Settings) (string, error) {
	if b.SaveSettingsFn != nil {
		return b.SaveSettingsFn(ctx, s)
	}
	return "Saved.", nil
}

// ImportHotlist calls ImportHotlistFn.
func (b *Backend) ImportHotlist(ctx context.Context, path, list string, progress func(done, total int)) (int, error) {
	if b.ImportHotlistFn != nil {
		return b.ImportHotlistFn(ctx, path, list, progress)
	}
	return 0, nil
}

// Tile calls TileFn; without one there are no tiles.
func (b *Backend) Tile(z, x, y int) ([]byte, error) {
	if b.TileFn != nil {
		return b.TileFn(z, x, y)
	}
	return nil, ui.ErrNoTiles
}

// At calls AtFn; without one there is no fix.
func (b *Backend) At(t time.Time) app.Position {
	if b.AtFn != nil {
		return b.AtFn(t)
	}
	return app.Position{Time: t, Fix: app.FixNone}
}

// LatestFrame calls LatestFrameFn.
func (b *Backend) LatestFrame() (ui.Frame, bool) {
	if b.LatestFrameFn != nil {
		return b.LatestFrameFn()
	}
	return ui.Frame{}, false
}
