package wechatsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Handler serves the simulated API and authorization page.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	api := map[string]func(w http.ResponseWriter, r *http.Request, body map[string]any){
		"/cgi-bin/component/api_component_token":     s.componentToken,
		"/cgi-bin/component/api_start_push_ticket":   s.startPushTicket,
		"/cgi-bin/component/api_create_preauthcode":  s.withComponentToken(s.createPreAuthCode),
		"/cgi-bin/component/api_query_auth":          s.withComponentToken(s.queryAuth),
		"/cgi-bin/component/api_authorizer_token":    s.withComponentToken(s.authorizerToken),
		"/cgi-bin/component/api_get_authorizer_list": s.withComponentToken(s.authorizerList),
		"/cgi-bin/component/api_get_authorizer_info": s.withComponentToken(s.authorizerInfo),
		"/wxa/operationams":                          s.operationAMS,
		"/wxa/setdefaultamsinfo":                     s.providerAMS,
		"/wxa/getdefaultamsinfo":                     s.providerAMS,
	}
	for path, h := range api {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				errcode(w, 43002, "require POST method")
				return
			}
			body := map[string]any{}
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil {
				errcode(w, 47001, "data format error")
				return
			}
			h(w, r, body)
		})
	}
	mux.HandleFunc("GET /cgi-bin/componentloginpage", s.loginPage)
	mux.HandleFunc("GET /safe/bindcomponent", s.loginPage)
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func rid() string { return " rid: " + randHex(6) + "-" + randHex(4) }

func errcode(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, map[string]any{"errcode": code, "errmsg": msg + rid()})
}

func str(body map[string]any, key string) string {
	v, _ := body[key].(string)
	return v
}

func num(body map[string]any, key string, def int) (int, bool) {
	v, ok := body[key]
	if !ok {
		return def, true
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false
	}
	return int(i), true
}

func (s *Sim) checkComponent(w http.ResponseWriter, body map[string]any) bool {
	if str(body, "component_appid") != s.cfg.ComponentAppID {
		errcode(w, 40013, "invalid appid")
		return false
	}
	return true
}

// checkSecret checks the component appid and the app secret, which WeChat's
// endpoints take under different field names, as WeChat does.
func (s *Sim) checkSecret(w http.ResponseWriter, body map[string]any, field string) bool {
	if !s.checkComponent(w, body) {
		return false
	}
	if str(body, field) != s.cfg.ComponentAppSecret {
		errcode(w, 40125, "invalid appsecret")
		return false
	}
	return true
}

func (s *Sim) componentToken(w http.ResponseWriter, _ *http.Request, body map[string]any) {
	if !s.checkSecret(w, body, "component_appsecret") {
		return
	}
	ticket := str(body, "component_verify_ticket")
	s.mu.Lock()
	defer s.mu.Unlock()
	if ticket == "" || !slices.Contains(s.tickets, ticket) {
		errcode(w, 61006, "component ticket is invalid")
		return
	}
	tok := "componenttoken" + randHex(20)
	s.compTokens[tok] = s.cfg.Now().Add(s.cfg.TokenTTL)
	s.compIssued++
	writeJSON(w, map[string]any{"component_access_token": tok, "expires_in": int(s.cfg.TokenTTL / time.Second)})
}

func (s *Sim) startPushTicket(w http.ResponseWriter, _ *http.Request, body map[string]any) {
	if !s.checkSecret(w, body, "component_secret") {
		return
	}
	if s.cfg.EventURL == "" {
		_ = s.PushTicket(context.Background())
	} else {
		s.pushAsync("component_verify_ticket", s.PushTicket)
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// withComponentToken validates component_access_token as WeChat does: unknown → 40001, expired → 42001.
func (s *Sim) withComponentToken(h func(http.ResponseWriter, *http.Request, map[string]any)) func(http.ResponseWriter, *http.Request, map[string]any) {
	return func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		tok := r.URL.Query().Get("component_access_token")
		s.mu.Lock()
		exp, ok := s.compTokens[tok]
		now := s.cfg.Now()
		s.mu.Unlock()
		switch {
		case !ok:
			errcode(w, 40001, "invalid credential, access_token is invalid or not latest")
			return
		case !now.Before(exp):
			errcode(w, 42001, "access_token expired")
			return
		}
		if !s.checkComponent(w, body) {
			return
		}
		h(w, r, body)
	}
}

const authCodeTTL = 600 * time.Second

func (s *Sim) createPreAuthCode(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
	code := "preauthcode@@@" + randHex(24)
	s.mu.Lock()
	s.preAuth[code] = s.cfg.Now().Add(authCodeTTL)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"pre_auth_code": code, "expires_in": int(authCodeTTL / time.Second)})
}

func htmlError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>微信公众平台</title></head><body><p>%s</p></body></html>", msg)
}

// loginPage stands in for the merchant scanning the QR code and approving.
func (s *Sim) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("component_appid") != s.cfg.ComponentAppID {
		htmlError(w, http.StatusBadRequest, "请确认授权入口页所在域名，与授权后回调页所在域名相同")
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || redirect.Host == "" {
		htmlError(w, http.StatusBadRequest, "redirect_uri 参数错误")
		return
	}
	// The desktop page must be reached from a page of the platform's own
	// domain: WeChat reads the Referer. (Inside WeChat on a phone there is none.)
	if r.URL.Path == "/cgi-bin/componentloginpage" {
		ref, err := url.Parse(r.Referer())
		if err != nil || ref.Host != redirect.Host {
			htmlError(w, http.StatusBadRequest, "请确认授权入口页所在域名，与授权后回调页所在域名相同")
			return
		}
	}
	pre := q.Get("pre_auth_code")
	now := s.cfg.Now()
	s.mu.Lock()
	exp, ok := s.preAuth[pre]
	delete(s.preAuth, pre)
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	if !ok || !now.Before(exp) {
		htmlError(w, http.StatusBadRequest, "该链接已失效，请重新获取授权链接")
		return
	}
	appID := q.Get("biz_appid")
	if appID == "" {
		appID = fmt.Sprintf("wx%016x", uint64(0xa0700000000)+uint64(seq))
	}
	if _, exists := s.Authorizer(appID); !exists {
		s.addAuthorizer(Authorizer{
			AppID:         appID,
			NickName:      fmt.Sprintf("新授权小程序%d", seq),
			HeadImg:       "http://wx.qlogo.cn/mmopen/demo" + randHex(4) + "/0",
			PrincipalName: "演示商户有限公司",
			MiniProgram:   q.Get("auth_type") != "1",
			Categories:    []wechat.Category{{First: "工具", Second: "效率"}},
		})
	}
	code := "queryauthcode@@@" + randHex(24)
	s.mu.Lock()
	s.authCodes[code] = authCode{appID: appID, expires: now.Add(authCodeTTL)}
	s.mu.Unlock()

	extra := fmt.Sprintf("<AuthorizerAppid><![CDATA[%s]]></AuthorizerAppid><AuthorizationCode><![CDATA[%s]]></AuthorizationCode><AuthorizationCodeExpiredTime>%d</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[%s]]></PreAuthCode>",
		appID, code, now.Add(authCodeTTL).Unix(), pre)
	ev := s.eventXML("authorized", extra)
	s.pushAsync("authorized", func(ctx context.Context) error { return s.PushEvent(ctx, ev) })

	rq := redirect.Query()
	rq.Set("auth_code", code)
	rq.Set("expires_in", "600")
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func funcInfo(mini bool) []map[string]any {
	ids := []int{1, 15, 4, 7, 2, 8, 11, 6}
	if mini {
		ids = []int{17, 18, 19, 25, 30, 31, 36, 37, 40, 41, 45, 48, 49, 51, 52, 57, 65, 67, 70, 71, 73, 76, 81, 84, 85, 86, 88, 93, 99, 102, 104, 105}
	}
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]any{"funcscope_category": map[string]any{"id": id}})
	}
	return out
}

// issueAuthToken replaces the previous token for the account, which is what
// causes 40001 storms when several processes refresh independently.
func (s *Sim) issueAuthToken(appID string) string {
	tok := "authorizertoken" + randHex(20)
	if old, ok := s.latestAuth[appID]; ok {
		delete(s.authTokens, old)
	}
	s.authTokens[tok] = authToken{appID: appID, expires: s.cfg.Now().Add(s.cfg.TokenTTL)}
	s.latestAuth[appID] = tok
	s.authIssued++
	return tok
}

func (s *Sim) queryAuth(w http.ResponseWriter, _ *http.Request, body map[string]any) {
	code := str(body, "authorization_code")
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, ok := s.authCodes[code]
	delete(s.authCodes, code)
	if !ok {
		errcode(w, 61009, "code is invalid")
		return
	}
	if !now.Before(ac.expires) {
		errcode(w, 61010, "code is expired")
		return
	}
	a, ok := s.authorizers[ac.appID]
	if !ok {
		errcode(w, 61003, "component is not authorized by this account")
		return
	}
	a.RefreshToken = "refreshtoken@@@" + randHex(24)
	a.AuthTime = now
	tok := s.issueAuthToken(a.AppID)
	writeJSON(w, map[string]any{"authorization_info": map[string]any{
		"authorizer_appid":         a.AppID,
		"authorizer_access_token":  tok,
		"expires_in":               int(s.cfg.TokenTTL / time.Second),
		"authorizer_refresh_token": a.RefreshToken,
		"func_info":                funcInfo(a.MiniProgram),
	}})
}

func (s *Sim) authorizerToken(w http.ResponseWriter, _ *http.Request, body map[string]any) {
	appID := str(body, "authorizer_appid")
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authorizers[appID]
	if !ok {
		errcode(w, 61003, "component is not authorized by this account")
		return
	}
	if a.RefreshToken == "" || str(body, "authorizer_refresh_token") != a.RefreshToken {
		errcode(w, 61023, "refresh_token is invalid")
		return
	}
	tok := s.issueAuthToken(appID)
	writeJSON(w, map[string]any{
		"authorizer_access_token":  tok,
		"expires_in":               int(s.cfg.TokenTTL / time.Second),
		"authorizer_refresh_token": a.RefreshToken,
	})
}

func (s *Sim) authorizerList(w http.ResponseWriter, _ *http.Request, body map[string]any) {
	offset, ok1 := num(body, "offset", 0)
	count, ok2 := num(body, "count", 0)
	if !ok1 || !ok2 || offset < 0 || count <= 0 || count > wechat.MaxAuthorizerListCount {
		errcode(w, 40097, "invalid args hint: count should be in [1, 500]")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []map[string]any{}
	for i := offset; i < len(s.order) && i < offset+count; i++ {
		a := s.authorizers[s.order[i]]
		list = append(list, map[string]any{"authorizer_appid": a.AppID, "refresh_token": a.RefreshToken, "auth_time": a.AuthTime.Unix()})
	}
	writeJSON(w, map[string]any{"total_count": len(s.order), "list": list})
}

func (s *Sim) authorizerInfo(w http.ResponseWriter, _ *http.Request, body map[string]any) {
	appID := str(body, "authorizer_appid")
	s.mu.Lock()
	a, ok := s.authorizers[appID]
	var cp Authorizer
	if ok {
		cp = *a
	}
	s.mu.Unlock()
	if !ok {
		errcode(w, 61003, "component is not authorized by this account")
		return
	}
	info := map[string]any{
		"nick_name":         cp.NickName,
		"head_img":          cp.HeadImg,
		"service_type_info": map[string]any{"id": 2},
		"verify_type_info":  map[string]any{"id": 0},
		"user_name":         cp.UserName,
		"principal_name":    cp.PrincipalName,
		"signature":         cp.Signature,
		"alias":             "",
		"qrcode_url":        "http://mmbiz.qpic.cn/mmbiz_jpg/demo" + cp.AppID + "/0",
		"business_info":     map[string]any{"open_pay": 0, "open_shake": 0, "open_scan": 0, "open_card": 0, "open_store": 0},
		"account_status":    cp.AccountStatus,
		"register_type":     0,
		"basic_config":      map[string]any{"is_phone_configured": true, "is_email_configured": false},
	}
	if cp.MiniProgram {
		info["service_type_info"] = map[string]any{"id": 0}
		cats := []map[string]any{}
		for _, c := range cp.Categories {
			cats = append(cats, map[string]any{"first": c.First, "second": c.Second})
		}
		info["MiniProgramInfo"] = map[string]any{
			"network": map[string]any{
				"RequestDomain": []string{"https://api.example.com"}, "WsRequestDomain": []string{}, "UploadDomain": []string{},
				"DownloadDomain": []string{}, "BizDomain": []string{}, "UDPDomain": []string{}, "TCPDomain": []string{},
			},
			"categories":   cats,
			"visit_status": 0,
		}
	}
	writeJSON(w, map[string]any{
		"authorizer_info": info,
		// As WeChat's documented reply does, authorization_info repeats the refresh token.
		"authorization_info": map[string]any{"authorizer_appid": cp.AppID, "authorizer_refresh_token": cp.RefreshToken, "func_info": funcInfo(cp.MiniProgram)},
	})
}

var retMessages = map[int]string{
	-202:  "inner error",
	-1:    "system error",
	1700:  "param error",
	1701:  "param error",
	1735:  "publisher have not authorized agency",
	1736:  "thirdid is empty",
	1737:  "operate too frequently",
	1807:  "invalid publisher",
	2009:  "invalid publisher",
	2013:  "not reach open threshold",
	2021:  "publisher already exist",
	2056:  "agency has no account in the monetization area",
	48001: "api unauthorized",
	61003: "component is not authorized by this account",
	61007: "api is unauthorized to component",
}

func message(code int) string {
	if m, ok := retMessages[code]; ok {
		return m
	}
	return strings.ToLower(wechat.LookupCode(code).MeaningIn("en"))
}

func reply(w http.ResponseWriter, shape string, code int, extra map[string]any) {
	out := map[string]any{}
	for k, v := range extra {
		out[k] = v
	}
	if shape == "errcode" {
		out["errcode"] = code
		out["errmsg"] = message(code) + rid()
	} else {
		out["ret"] = code
		out["err_msg"] = ""
		if code != 0 {
			out["err_msg"] = message(code)
		}
	}
	writeJSON(w, out)
}

// resolveAMSToken applies WeChat's checks to an operationams access_token.
// It returns the appid, or writes the failure reply and returns "".
func (s *Sim) resolveAMSToken(w http.ResponseWriter, action, tok string) string {
	now := s.cfg.Now()
	s.mu.Lock()
	at, isAuth := s.authTokens[tok]
	_, isComp := s.compTokens[tok]
	s.calls = append(s.calls, Call{Action: action, AppID: at.appID, At: now})
	_, authorized := s.authorizers[at.appID]
	s.mu.Unlock()
	switch {
	case isComp:
		reply(w, "ret", 1736, nil)
	case !isAuth:
		errcode(w, 40001, "invalid credential, access_token is invalid or not latest")
	case !now.Before(at.expires):
		errcode(w, 42001, "access_token expired")
	case !authorized:
		errcode(w, 61003, message(61003))
	default:
		return at.appID
	}
	return ""
}

func (s *Sim) takeScript(appID, action string) (Behavior, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scriptKey{appID, action}
	sc, ok := s.scripts[k]
	if !ok {
		return Behavior{}, false
	}
	if sc.b.Times > 0 {
		sc.remaining--
		if sc.remaining <= 0 {
			delete(s.scripts, k)
		}
	}
	return sc.b, true
}

func (s *Sim) operationAMS(w http.ResponseWriter, r *http.Request, body map[string]any) {
	action := r.URL.Query().Get("action")
	if isProviderAction(action) {
		s.providerAMS(w, r, body)
		return
	}
	appID := s.resolveAMSToken(w, action, r.URL.Query().Get("access_token"))
	if appID == "" {
		return
	}
	if !s.waitAtGates(r, appID, action) {
		return
	}
	b, scripted := s.takeScript(appID, action)
	if scripted {
		if b.Hang {
			<-r.Context().Done()
			return
		}
		if b.Delay > 0 {
			select {
			case <-time.After(b.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if b.HTTPStatus != 0 {
			htmlError(w, b.HTTPStatus, fmt.Sprintf("%d %s", b.HTTPStatus, http.StatusText(b.HTTPStatus)))
			return
		}
		if b.Garbage {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>system maintenance</body></html>")
			return
		}
	}
	s.mu.Lock()
	a := s.authorizers[appID]
	mini := a != nil && a.MiniProgram
	s.mu.Unlock()
	if !mini && !scripted {
		errcode(w, 48001, message(48001))
		return
	}
	switch action {
	case "agency_check_can_open_publisher":
		if scripted {
			var extra map[string]any
			if b.Ret == 0 {
				extra = map[string]any{"status": b.Status}
			}
			reply(w, b.Shape, b.Ret, extra)
			return
		}
		reply(w, "ret", 0, map[string]any{"status": 1})
	case "agency_create_publisher":
		if scripted {
			if b.Ret == 0 {
				s.setOpened(appID)
			}
			reply(w, b.Shape, b.Ret, nil)
			return
		}
		if s.setOpened(appID) {
			reply(w, "ret", 2021, nil)
			return
		}
		reply(w, "ret", 0, nil)
	default:
		s.amsAction(w, appID, action, body, b, scripted)
	}
}

// setOpened marks appID opened and reports whether it already was.
func (s *Sim) setOpened(appID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.opened[appID]
	s.opened[appID] = true
	if !was {
		s.noteOpened(appID, s.cfg.Now())
	}
	return was
}
