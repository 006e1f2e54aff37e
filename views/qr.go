package views

import (
	"fmt"
	"strings"

	"github.com/a-h/templ"
	"rsc.io/qr"
)

// qrSVG draws text as a QR code in inline SVG: one path of unit squares with a
// four-module quiet zone, no style attributes (the CSP forbids inline styles)
// and nothing fetched from anywhere.
func qrSVG(text, label string) templ.Component {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return templ.Raw("")
	}
	const quiet = 4
	n := code.Size + 2*quiet
	var d strings.Builder
	for y := range code.Size {
		for x := range code.Size {
			if code.Black(x, y) {
				fmt.Fprintf(&d, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	svg := fmt.Sprintf(`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		n, n, templ.EscapeString(label), n, n, d.String())
	return templ.Raw(svg)
}
