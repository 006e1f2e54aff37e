// Package browsertest drives Debian's headless Chromium through the real pages
// for the tests that must see what a person sees. Every browser records what
// its pages write to the console (errors, uncaught exceptions, CSP violations)
// so tests can fail on them; WeChat's image hosts are answered locally, since
// this machine has no outside network and a test must not depend on one.
package browsertest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
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

// Options adjust a Browser.
type Options struct {
	// Timeout bounds the whole browser session (default 10 min). It is
	// there to turn a hang into a clear failure, not to time anything: a
	// session on a loaded two-core machine takes several times as long as on
	// an idle one, and it must pass there too.
	Timeout time.Duration
	// Step bounds each step (a navigation, a wait, a click, an evaluation;
	// default 3 min), so a step that can never finish fails as that step,
	// with what the page showed, long before the session's bound.
	Step time.Duration
}

// Browser is one tab of a headless Chromium; every method fails the test on error.
type Browser struct {
	t   testing.TB
	Ctx context.Context

	step     time.Duration
	mu       sync.Mutex
	problems []string
	images   []string
	syncSeq  int
	synced   map[string]chan struct{}
}

// watchScript runs in every document before the page's own scripts. It is
// injected through the DevTools protocol, which the page's CSP does not
// govern, and reports each CSP violation on the console, where the browser
// collects it with the other errors.
const watchScript = `document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "an inline resource") +
    " in " + e.sourceFile + ":" + e.lineNumber);
}, true);`

// syncPrefix marks the console message that Sync waits for.
const syncPrefix = "browsertest-sync-"

// New starts a headless browser for the test. Without Chromium the test is
// skipped locally but fails in CI (CI=true), where `make test` installs it.
func New(t testing.TB, opts ...Options) *Browser {
	t.Helper()
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	if opt.Timeout == 0 {
		opt.Timeout = 10 * time.Minute
	}
	if opt.Step == 0 {
		opt.Step = 3 * time.Minute
	}
	bin := FindChromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("browsertest: Chromium is not installed (make test installs it with .ci/install-deps)")
		}
		t.Skip("browsertest: Chromium not installed; run .ci/install-deps chromium")
	}
	aopts := []chromedp.ExecAllocatorOption{
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
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), aopts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, opt.Timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now so a failure to launch is reported here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	b := &Browser{t: t, Ctx: ctx, step: opt.Step, synced: map[string]chan struct{}{}}
	b.watchConsole()
	b.serveWeChatImages()
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
	return b
}

// listen sends cmd with params to the browser (what names it in a failure),
// then hands every event of events to handle, in a goroutine, until the
// browser closes. events is subscribed to before cmd is sent, as the caller
// evaluates it first, so no event that cmd causes is missed.
func listen[P, R, E any](b *Browser, what string, cmd cdp.Command[P, R], params P, events iter.Seq2[E, error], handle func(E)) {
	if _, err := chromedp.Call(b.Ctx, cmd, params); err != nil {
		b.t.Fatalf("browsertest: %s: %v", what, err)
	}
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			handle(ev)
		}
	}()
}

// watchConsole collects console errors, uncaught exceptions, failed loads and
// CSP violations (from the browser's log and from watchScript).
func (b *Browser) watchConsole() {
	listen(b, "inject the CSP listener", page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchScript},
		chromedp.Console(b.Ctx), b.onConsole)
}

func (b *Browser) onConsole(m chromedp.ConsoleMessage) {
	if strings.HasPrefix(m.Text, syncPrefix) {
		b.mu.Lock()
		if ch, ok := b.synced[m.Text]; ok {
			close(ch)
			delete(b.synced, m.Text)
		}
		b.mu.Unlock()
		return
	}
	if !isProblem(m) {
		return
	}
	text := string(m.Type)
	if m.Source != "" {
		text += " (" + m.Source + ")"
	}
	text += ": " + m.Text
	if m.URL != "" {
		text += " [" + m.URL + "]"
	}
	b.mu.Lock()
	b.problems = append(b.problems, text)
	b.mu.Unlock()
}

// isProblem: any error or exception, and the browser's security warnings.
func isProblem(m chromedp.ConsoleMessage) bool {
	switch m.Type {
	case chromedp.ConsoleError, chromedp.ConsoleException, "assert":
		return true
	case chromedp.ConsoleWarning:
		return m.Source == "security"
	}
	return false
}

// serveWeChatImages answers https requests to WeChat's image hosts with a
// small PNG, so avatars load as they would in production, deterministically.
// Only requests the page's CSP let through reach this point; an http URL or
// another host is blocked (and reported) before any request is made.
func (b *Browser) serveWeChatImages() {
	var patterns []*fetch.RequestPattern
	for _, h := range wechat.ImageHosts {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: "https://" + h + "/*"})
	}
	listen(b, "intercept WeChat's image hosts", fetch.Enable, fetch.EnableParams{Patterns: patterns},
		chromedp.Events(b.Ctx, fetch.RequestPaused), func(ev fetch.EventRequestPaused) {
			b.mu.Lock()
			b.images = append(b.images, ev.Request.URL)
			b.mu.Unlock()
			go func() {
				_, _ = chromedp.Call(b.Ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID:       ev.RequestID,
					ResponseCode:    200,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "image/png"}, {Name: "Cache-Control", Value: "max-age=3600"}},
					Body:            avatarPNG,
				})
			}()
		})
}

// avatarPNG stands in for every picture WeChat serves.
var avatarPNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := range 8 {
		for x := range 8 {
			if (x+y)%2 == 0 {
				img.Set(x, y, color.RGBA{0x06, 0x7a, 0x41, 0xff})
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}()

// WeChatImages returns the URLs requested from WeChat's image hosts so far.
func (b *Browser) WeChatImages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.images...)
}

// Sync waits until every console message the page wrote before the call has
// been collected.
func (b *Browser) Sync() {
	b.t.Helper()
	b.mu.Lock()
	b.syncSeq++
	marker := syncPrefix + strconv.Itoa(b.syncSeq)
	ch := make(chan struct{})
	b.synced[marker] = ch
	b.mu.Unlock()
	ctx, cancel := b.stepContext()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`console.debug(`+strconv.Quote(marker)+`), true`)); err != nil {
		b.t.Fatalf("browsertest: sync: %v", err)
	}
	select {
	case <-ch:
	case <-ctx.Done():
		b.t.Fatalf("browsertest: sync: %v", ctx.Err())
	}
}

// Problems returns (and forgets) the console errors, exceptions and CSP
// violations collected so far.
func (b *Browser) Problems() []string {
	b.t.Helper()
	b.Sync()
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// RequireClean fails the test when the page wrote any error to the console.
func (b *Browser) RequireClean(where string) {
	b.t.Helper()
	if p := b.Problems(); len(p) > 0 {
		b.Screenshot("problem-" + sanitize(b.t.Name()+"-"+where))
		b.t.Errorf("browsertest: %s: the console reported:\n  %s", where, strings.Join(p, "\n  "))
	}
}

// htmxBusy matches what htmx marks while it works: a request in flight, a
// target being swapped or settling, new content not yet settled. Until it
// settles, htmx has not processed new content: a link in it is a plain link
// and a click on it leaves the page.
const htmxBusy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"

// idleJS waits until the document has loaded and htmx is not at work.
const idleJS = `(async () => {
  const until = async (ok) => { while (!ok()) await new Promise(r => setTimeout(r, 20)); };
  await until(() => document.readyState === "complete" && !document.querySelector(` + "`" + htmxBusy + "`" + `));
  return true;
})()`

// Idle waits until the page has loaded and htmx has finished every request,
// swap and settle: the state a person looks at before the next click.
func (b *Browser) Idle() {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](idleJS, chromedp.EvalAwaitPromise)); err != nil {
		b.fail("waiting for htmx to finish: %v", err)
	}
}

// Settle waits until the page has loaded, its images (lazy ones included)
// have loaded or failed, and no htmx request is in flight.
func (b *Browser) Settle() {
	b.t.Helper()
	const js = `(async () => {
  const until = async (ok) => { while (!ok()) await new Promise(r => setTimeout(r, 20)); };
  await until(() => document.readyState === "complete");
  const imgs = [...document.images];
  imgs.forEach(i => { if (i.loading === "lazy") i.loading = "eager"; });
  await until(() => imgs.every(i => i.complete));
  await until(() => !document.querySelector(` + "`" + htmxBusy + "`" + `));
  return true;
})()`
	ctx, cancel := b.stepContext()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err != nil {
		b.fail("settle: %v", err)
	}
}

// Viewport sets the page's size; below 600 px wide it is a phone (mobile
// viewport, touch).
func (b *Browser) Viewport(width, height int64) {
	b.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if width < 600 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	b.Do(chromedp.EmulateViewport(width, height, opts...))
}

//go:embed axe/axe.min.js
var axeSource string

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s: %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
}

// Axe runs axe-core (WCAG 2.x A and AA rules and best practices) on the
// current page and returns what it finds. The script is evaluated through the
// DevTools protocol, not loaded by the page, so the page's CSP stays as strict
// as in production.
func (b *Browser) Axe() []Violation {
	b.t.Helper()
	const run = `(async () => {
  const r = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    rules: {"label-content-name-mismatch": {enabled: true}},
    resultTypes: ["violations"],
  });
  return JSON.stringify(r.violations.map(v => ({
    id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + (n.failureSummary ? " — " + n.failureSummary.replace(/\s+/g, " ") : "")),
  })));
})()`
	loaded, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		b.t.Fatalf("browsertest: axe: %v", err)
	}
	if !loaded {
		if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
			b.t.Fatalf("browsertest: load axe-core: %v", err)
		}
	}
	out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browsertest: run axe-core: %v", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("browsertest: axe-core result: %v", err)
	}
	return vs
}

// Eval evaluates a JavaScript expression on the page and returns its value.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("eval %s: %v", expr, err)
	}
	return v
}

// stepContext bounds one step.
func (b *Browser) stepContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.Ctx, b.step)
}

// fail ends the test with err and what the page showed when it happened:
// its address, the console's errors so far and the start of its text.
func (b *Browser) fail(format string, args ...any) {
	b.t.Helper()
	b.Screenshot("failure-" + sanitize(b.t.Name()))
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\n  at " + loc
	}
	b.mu.Lock()
	problems := slices.Clone(b.problems)
	b.mu.Unlock()
	if len(problems) > 0 {
		msg += "\n  the console reported:\n    " + strings.Join(problems, "\n    ")
	}
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
		const most = 3000
		if len(text) > most {
			text = text[:most] + "…"
		}
		msg += "\n  the page read:\n" + text
	}
	b.t.Fatalf("browsertest: %s", msg)
}

// WaitUntil waits, for at most one step, until the JavaScript expression
// cond is true; what names the awaited state in a failure.
func (b *Browser) WaitUntil(cond, what string) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond)); err != nil {
		b.fail("waiting until %s: %v", what, err)
	}
}

// Do runs steps, failing the test on error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail("%v", err)
	}
}

// Navigate opens a URL.
func (b *Browser) Navigate(url string) { b.t.Helper(); b.Do(chromedp.Navigate(url)) }

// WaitVisible waits until sel is visible.
func (b *Browser) WaitVisible(sel string) { b.t.Helper(); b.Do(chromedp.WaitVisible(sel)) }

// Fill types v into the field sel.
func (b *Browser) Fill(sel, v string) { b.t.Helper(); b.Do(chromedp.SendKeys(sel, v)) }

// Click clicks sel once htmx is idle (Idle), as a person clicks what has
// finished appearing. A click while htmx works is chromedp.Click through Do.
func (b *Browser) Click(sel string) { b.t.Helper(); b.Idle(); b.Do(chromedp.Click(sel)) }

// Text returns sel's visible text.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		b.fail("text of %s: %v", sel, err)
	}
	return v
}

// Location returns the current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fail("location: %v", err)
	}
	return v
}

// ScreenshotDir is where screenshots go: TRAFFICMASTER_SCREENSHOTS, or ""
// when none are wanted.
func ScreenshotDir() string { return os.Getenv("TRAFFICMASTER_SCREENSHOTS") }

// Screenshot saves a full-page PNG when TRAFFICMASTER_SCREENSHOTS names a
// folder, so pages can be looked at after a run.
func (b *Browser) Screenshot(name string) { b.screenshot(name, chromedp.FullScreenshot(100)) }

// ScreenshotViewport saves what fits on the screen, without scrolling, like
// Screenshot.
func (b *Browser) ScreenshotViewport(name string) { b.screenshot(name, chromedp.CaptureScreenshot()) }

func (b *Browser) screenshot(name string, capture chromedp.Action[[]byte]) {
	dir := ScreenshotDir()
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, capture)
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
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			out[i] = '-'
		}
	}
	return string(out)
}
