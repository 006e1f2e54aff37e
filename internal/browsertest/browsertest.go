// Package browsertest drives Debian's headless Chromium through the real pages
// for the few tests that must see what a person sees.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// FindChromium returns the browser's path, or "" when it is not installed.
func FindChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one tab of a headless Chromium; every method fails the test on error.
type Browser struct {
	t   testing.TB
	Ctx context.Context
}

// New starts a headless browser for the test. Without Chromium the test is
// skipped locally but fails in CI (CI=true), where `make test` installs it.
func New(t testing.TB) *Browser {
	t.Helper()
	bin := FindChromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("browsertest: Chromium is not installed (make test installs it with .ci/install-deps)")
		}
		t.Skip("browsertest: Chromium not installed; run .ci/install-deps chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.Flag("disable-quic", true),
		// This machine has no outside network; background fetches only add noise.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now so a failure to launch is reported here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	// Confirmation dialogs (hx-confirm, data-confirm) are accepted, as a person would.
	go func() {
		for _, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			// The dialog is answered from another goroutine than the one receiving events.
			go func() {
				_ = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
					return err
				}))
			}()
		}
	}()
	return &Browser{t: t, Ctx: ctx}
}

// Do runs steps, failing the test on error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.Screenshot("failure-" + sanitize(b.t.Name()))
		b.t.Fatalf("browsertest: %v", err)
	}
}

// Navigate opens a URL.
func (b *Browser) Navigate(url string) { b.t.Helper(); b.Do(chromedp.Navigate(url)) }

// WaitVisible waits until sel is visible.
func (b *Browser) WaitVisible(sel string) { b.t.Helper(); b.Do(chromedp.WaitVisible(sel)) }

// Fill types v into the field sel.
func (b *Browser) Fill(sel, v string) { b.t.Helper(); b.Do(chromedp.SendKeys(sel, v)) }

// Click clicks sel.
func (b *Browser) Click(sel string) { b.t.Helper(); b.Do(chromedp.Click(sel)) }

// Text returns sel's visible text.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("browsertest: text of %s: %v", sel, err)
	}
	return v
}

// Location returns the current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browsertest: location: %v", err)
	}
	return v
}

// Screenshot saves a full-page PNG when TRAFFICMASTER_SCREENSHOTS names a
// folder, so pages can be looked at after a run.
func (b *Browser) Screenshot(name string) {
	dir := os.Getenv("TRAFFICMASTER_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

func sanitize(s string) string {
	out := []rune(s)
	for i, r := range out {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			out[i] = '-'
		}
	}
	return string(out)
}
