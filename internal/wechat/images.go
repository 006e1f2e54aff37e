package wechat

import (
	"net/url"
	"slices"
	"strings"
)

// ImageHosts are the hosts WeChat serves profile pictures and QR images
// from. They all answer over https, though WeChat's API hands out http URLs
// (head_img is "http://wx.qlogo.cn/mmopen/…"). The console's CSP allows images
// from exactly these hosts, so a hostile profile cannot plant a tracking pixel
// from anywhere else.
var ImageHosts = []string{"wx.qlogo.cn", "thirdwx.qlogo.cn", "mmbiz.qpic.cn", "mmbiz.qlogo.cn"}

// ImageURL returns raw as an https URL when it points at one of WeChat's
// image hosts, and false for anything else (another host, another scheme,
// credentials, a port, or no URL at all).
func ImageURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if u, ok := plainImageURL(raw); ok {
		return u, true
	}
	return parsedImageURL(raw)
}

// plainImageURL is ImageURL for the URLs WeChat hands out: http or https,
// one of ImageHosts as written there, and a path of letters, digits and
// / . _ ~ - only, which parsing and printing give back unchanged but for
// the scheme. The list shows fifty of them a page, and parsing each cost
// an eighth of the page's rendering. Anything else is not plain (false)
// and is parsed.
func plainImageURL(raw string) (string, bool) {
	rest, ok := strings.CutPrefix(raw, "http://")
	if !ok {
		if rest, ok = strings.CutPrefix(raw, "https://"); !ok {
			return "", false
		}
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if !slices.Contains(ImageHosts, host) {
		return "", false
	}
	for i := range len(path) {
		switch c := path[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '/', c == '.', c == '_', c == '~', c == '-':
		default:
			return "", false
		}
	}
	return "https://" + rest, true
}

func parsedImageURL(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Port() != "" || u.Opaque != "" {
		return "", false
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false
	}
	if !slices.Contains(ImageHosts, strings.ToLower(u.Host)) {
		return "", false
	}
	u.Scheme = "https"
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	return u.String(), true
}
