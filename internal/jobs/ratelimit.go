package jobs

import (
	"context"
	"fmt"
	"time"
)

// RateLimiter spaces calls to WeChat evenly across every instance sharing the
// database: each call reserves the next free time slot in one atomic UPDATE
// and sleeps until it, so the limit holds however many workers run, with no
// busy waiting and no burst after an idle spell. What it promises is about
// slots: no two reservations are closer than 1/PerSecond on the database's
// clock. Callers take their slot right before they send (see
// traffic.AttemptRequest.Pace), so calls follow their slots closely.
type RateLimiter struct {
	// Slots reserves the slots, on the database shared by every instance.
	Slots SlotStore
	// Name keys the limiter's row; instances with the same name share a budget.
	Name string
	// PerSecond is the allowed call rate; zero or less disables the limiter.
	PerSecond float64
	// OnReserve, when set, learns each reserved slot (database time) before
	// the caller sleeps until it: for metrics and tests.
	OnReserve func(slot time.Time)
}

// Wait blocks until this caller's slot arrives or ctx ends.
func (l *RateLimiter) Wait(ctx context.Context) error {
	if l == nil || l.PerSecond <= 0 {
		return ctx.Err()
	}
	interval := time.Duration(float64(time.Second) / l.PerSecond)
	// The wait is computed on the database's clock, so instances with skewed
	// clocks still share one timeline.
	slot, wait, err := l.Slots.ReserveSlot(ctx, l.Name, interval)
	if err != nil {
		return fmt.Errorf("reserve rate slot: %w", err)
	}
	if l.OnReserve != nil {
		l.OnReserve(slot)
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
