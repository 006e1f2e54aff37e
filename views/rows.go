package views

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// The list and the audit print 50 rows a page, and templ's runtime costs
// allocations for every value a template prints: a { } text expression goes
// through fmt.Sprint (two allocations), a class={ } expression through a CSS
// processor (about eight), each component call through three, each string
// built for a row (ids, paths, times, filled-in messages) one more. So their
// rows are computed once per page into plain view models whose strings are
// cut from one buffer (arena), their text is written by text, and their
// classes are constant attributes chosen by conditions. What they print is
// the same, byte for byte.

// text is s written as escaped HTML text: the same bytes as templ's { s },
// without its fmt.Sprint. @text(s) is a static call that allocates nothing
// unless s has characters to escape.
type text string

// Render writes the text escaped.
func (t text) Render(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, templ.EscapeString(t))
	return err
}

// spaced is text after a space: templ drops the whitespace before an @ call
// that a { } expression would keep.
type spaced string

// Render writes a space and the text escaped.
func (t spaced) Render(_ context.Context, w io.Writer) error {
	if _, err := io.WriteString(w, " "); err != nil {
		return err
	}
	_, err := io.WriteString(w, templ.EscapeString(t))
	return err
}

// rendered is HTML that templ rendered once a page, for markup every row
// repeats as is; it is written without escaping it again.
type rendered []byte

// Render writes the HTML.
func (h rendered) Render(_ context.Context, w io.Writer) error {
	_, err := w.Write(h)
	return err
}

// prerender renders c once, for every row of a page.
func prerender(c templ.Component) rendered {
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		// Only a failing writer makes a component fail; a bytes.Buffer does not.
		panic(err)
	}
	return b.Bytes()
}

// arena builds the short strings of a page's rows (ids, paths, times,
// filled-in messages) in one strings.Builder and cuts them from the one
// string it builds, so they cost a few allocations a page instead of one
// each, and are not copied again.
type arena struct {
	sb   strings.Builder
	cuts []cut
}

// cut is where one string of the arena goes once the arena is done.
type cut struct {
	dst        *string
	start, end int
}

func newArena(size, strs int) *arena {
	z := &arena{cuts: make([]cut, 0, strs)}
	z.sb.Grow(size)
	return z
}

// mark starts a string at the end of the buffer.
func (z *arena) mark() int { return z.sb.Len() }

// keep makes what was added since start the string *dst.
func (z *arena) keep(dst *string, start int) { z.cuts = append(z.cuts, cut{dst, start, z.sb.Len()}) }

// add appends parts to the buffer.
func (z *arena) add(parts ...string) {
	for _, p := range parts {
		z.sb.WriteString(p)
	}
}

// join makes *dst the concatenation of parts.
func (z *arena) join(dst *string, parts ...string) {
	start := z.mark()
	z.add(parts...)
	z.keep(dst, start)
}

// addInt appends n in decimal.
func (z *arena) addInt(n int64) {
	var b [20]byte
	z.sb.Write(strconv.AppendInt(b[:0], n, 10))
}

// int makes *dst the concatenation of prefix and n in decimal.
func (z *arena) int(dst *string, prefix string, n int64) {
	start := z.mark()
	z.sb.WriteString(prefix)
	z.addInt(n)
	z.keep(dst, start)
}

// times makes *iso and *shown t as Base.TimeISO and Base.Time write it.
func (z *arena) times(iso, shown *string, b Base, t time.Time) {
	var buf [64]byte
	start := z.mark()
	z.sb.Write(appendTime(buf[:0], t.UTC(), 'T', time.RFC3339))
	z.keep(iso, start)
	if t.IsZero() {
		*shown = "—"
		return
	}
	start = z.mark()
	z.sb.Write(appendTime(buf[:0], t.In(b.loc()), ' ', timeLayout))
	z.keep(shown, start)
}

// appendTime appends t as time.Format writes layout, which is timeLayout
// (sep ' ') or, for a time in UTC, time.RFC3339 (sep 'T'): the date and
// the clock to the second, without Format's reading of the layout, which
// was half the time of computing a row. A year of other than four digits
// goes through Format.
func appendTime(b []byte, t time.Time, sep byte, layout string) []byte {
	year, month, day := t.Date()
	if year < 1000 || year > 9999 {
		return t.AppendFormat(b, layout)
	}
	hour, minute, sec := t.Clock()
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = strconv.AppendInt(b, int64(year), 10)
	b = two(append(b, '-'), int(month))
	b = two(append(b, '-'), day)
	b = two(append(b, sep), hour)
	b = two(append(b, ':'), minute)
	b = two(append(b, ':'), sec)
	if sep == 'T' {
		b = append(b, 'Z')
	}
	return b
}

// fill makes *dst the message m with args in place of its verbs.
func (z *arena) fill(dst *string, m message, args ...string) {
	if m.parts == nil || len(args) != len(m.parts)-1 {
		*dst = m.sprint(args)
		return
	}
	start := z.mark()
	for i, p := range m.parts {
		z.sb.WriteString(p)
		if i < len(args) {
			z.sb.WriteString(args[i])
		}
	}
	z.keep(dst, start)
}

// done gives every string its value; the arena is not used after.
func (z *arena) done() {
	s := z.sb.String()
	for _, c := range z.cuts {
		*c.dst = s[c.start:c.end]
	}
}

// message is a translated message with %s or %d verbs, split at them once a
// page so that each row fills it in the arena instead of through
// fmt.Sprintf. Its arguments are strings (a number already in decimal, as
// %d would write it).
type message struct {
	format string
	// parts are the text between the verbs; nil when the message has any
	// other verb (it is then formatted by fmt).
	parts []string
}

func newMessage(b Base, key string) message {
	m := message{format: b.T(key)}
	rest := m.format
	for {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			m.parts = append(m.parts, rest)
			return m
		}
		if i+1 == len(rest) || (rest[i+1] != 's' && rest[i+1] != 'd') {
			m.parts = nil
			return m
		}
		m.parts = append(m.parts, rest[:i])
		rest = rest[i+2:]
	}
}

// sprint formats the message with fmt, for a translation with other verbs
// than fill knows (TestRowMessagesFillWithoutFmt keeps the rows' messages to
// %s and %d).
func (m message) sprint(args []string) string {
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	return fmt.Sprintf(m.format, a...)
}
