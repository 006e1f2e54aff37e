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
