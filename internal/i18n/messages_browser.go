package i18n

// zhBrowser holds the Chinese text of the authorization page, the phone
// menu and the run progress bar.
var zhBrowser = map[string]string{
	"The Mini Program's administrator approves this platform on WeChat's page. The link works once, until %s.": "小程序管理员在微信的页面上授权本平台。链接只能使用一次，有效期至 %s。",
	"On this computer": "在这台电脑上",
	"Open WeChat's page here; it shows a QR code for the administrator to scan with WeChat.": "在这里打开微信的授权页面，页面上会显示二维码，请管理员用微信扫码。",
	"Open WeChat's authorization page": "打开微信授权页面",
	"On the merchant's phone":          "在商户的手机上",
	"The administrator scans this code with WeChat, or opens the link in WeChat.": "管理员用微信扫描此二维码，或在微信中打开此链接。",
	"QR code of WeChat's authorization page":                                      "微信授权页面的二维码",
	"Link for WeChat on a phone":                                                  "手机微信中打开的链接",
	"Copy link":                                                                   "复制链接",
	"When the administrator approves, WeChat returns here and the Mini Program is added; a later sync also picks it up.": "管理员授权后，微信会跳转回本页并添加该小程序；之后的同步也会将其加入。",
	"Run progress": "任务进度",
	"Menu":         "菜单",
	"Main":         "主导航",
}
