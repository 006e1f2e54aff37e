package wechatsim

import (
	"net/http"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// amsHandler answers one action for one account; it runs with Sim.mu held
// and returns the result code and the reply's fields.
type amsHandler func(s *Sim, appID string, body map[string]any) (int, map[string]any)

// miniActions are the per Mini Program actions beyond opening.
var miniActions = map[string]amsHandler{
	wechat.ActionCreateAdUnit:            (*Sim).createAdUnit,
	wechat.ActionUpdateAdUnit:            (*Sim).updateAdUnit,
	wechat.ActionGetAdUnitList:           (*Sim).adUnitList,
	wechat.ActionGetAdUnitCode:           (*Sim).adUnitCode,
	wechat.ActionGetTmplType:             (*Sim).tmplType,
	wechat.ActionGetAgencyAdUnitList:     (*Sim).agencyAdUnitList,
	wechat.ActionSetCoverAdposStatus:     (*Sim).setCoverStatus,
	wechat.ActionGetCoverAdposStatus:     (*Sim).coverStatus,
	wechat.ActionSetCoverAdposScene:      (*Sim).setCoverScene,
	wechat.ActionGetCoverAdposScene:      (*Sim).coverScene,
	wechat.ActionGetBlackList:            (*Sim).blackList,
	wechat.ActionSetBlackList:            (*Sim).setBlackList,
	wechat.ActionGetAmsCategoryBlacklist: (*Sim).industries,
	wechat.ActionSetAmsCategoryBlacklist: (*Sim).setIndustries,
	wechat.ActionGetAdposGeneral:         (*Sim).adposGeneral,
	wechat.ActionGetAdUnitGeneral:        (*Sim).adunitGeneral,
	wechat.ActionGetSettlement:           (*Sim).settlement,
}

// amsAction answers a per Mini Program action other than opening, once the
// token, gates and scripted transport behaviour have been dealt with. A
// scripted non-zero code wins, in the script's Shape ("ret", "errcode",
// "base_resp"; "" for the action's dialect); an account whose traffic master
// is not open gets 2009, as WeChat answers.
func (s *Sim) amsAction(w http.ResponseWriter, appID, action string, body map[string]any, b Behavior, scripted bool) {
	if scripted && b.Ret != 0 {
		s.amsReply(w, action, b.Shape, b.Ret, nil)
		return
	}
	h, ok := miniActions[action]
	if !ok {
		s.amsReply(w, action, wechat.ShapeRet, 1700, nil)
		return
	}
	s.mu.Lock()
	code, extra := 2009, map[string]any(nil)
	if s.opened[appID] {
		code, extra = h(s, appID, body)
	}
	s.mu.Unlock()
	s.amsReply(w, action, "", code, extra)
}

// providerActions are the provider's own actions, answered on the amsinfo
// paths with the component token; the path each is accepted on follows
// WeChat's pages (get_agency_settled_revenue's is unsettled: both).
var providerActions = map[string]struct {
	paths   []string
	handler func(s *Sim, body map[string]any) (int, map[string]any)
}{
	wechat.ActionSetShareRatio:           {[]string{"/wxa/setdefaultamsinfo"}, (*Sim).setShareRatio},
	wechat.ActionSetCustomShareRatio:     {[]string{"/wxa/setdefaultamsinfo"}, (*Sim).setCustomShareRatio},
	wechat.ActionGetShareRatio:           {[]string{"/wxa/getdefaultamsinfo"}, (*Sim).getShareRatio},
	wechat.ActionGetCustomShareRatio:     {[]string{"/wxa/getdefaultamsinfo"}, (*Sim).getCustomShareRatio},
	wechat.ActionGetAgencyAdsStat:        {[]string{"/wxa/getdefaultamsinfo"}, (*Sim).agencyAdsStatBody},
	wechat.ActionGetAgencyAdsDetail:      {[]string{"/wxa/getdefaultamsinfo"}, (*Sim).agencyAdsDetailBody},
	wechat.ActionGetAgencySettledRevenue: {[]string{"/wxa/getdefaultamsinfo", "/wxa/operationams"}, (*Sim).agencySettledRevenue},
}

// isProviderAction reports whether action is one of the provider's own,
// which operationams passes on instead of answering 1736.
func isProviderAction(action string) bool {
	_, ok := providerActions[action]
	return ok
}

// providerAMS serves /wxa/setdefaultamsinfo and /wxa/getdefaultamsinfo (and
// get_agency_settled_revenue on operationams). Scripts and gates for these
// actions are keyed by the component appid.
func (s *Sim) providerAMS(w http.ResponseWriter, r *http.Request, body map[string]any) {
	action := r.URL.Query().Get("action")
	tok := r.URL.Query().Get("access_token")
	now := s.cfg.Now()
	s.mu.Lock()
	exp, isComp := s.compTokens[tok]
	at, isAuth := s.authTokens[tok]
	s.calls = append(s.calls, Call{Action: action, AppID: str(body, "appid"), At: now})
	s.mu.Unlock()
	switch {
	case isComp && !now.Before(exp):
		errcode(w, 42001, "access_token expired")
		return
	case isComp:
	case isAuth && action == wechat.ActionGetAgencyAdsStat && now.Before(at.expires):
		// The pages disagree on this action's token; both are accepted.
	default:
		errcode(w, 40001, "invalid credential, access_token is invalid or not latest")
		return
	}
	pa, ok := providerActions[action]
	if !ok || !containsPath(pa.paths, r.URL.Path) {
		s.amsReply(w, action, wechat.ShapeRet, 1700, nil)
		return
	}
	if !s.waitAtGates(r, s.cfg.ComponentAppID, action) {
		return
	}
	if b, scripted := s.takeScript(s.cfg.ComponentAppID, action); scripted {
		if b.Delay > 0 {
			select {
			case <-time.After(b.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if b.Ret != 0 {
			s.amsReply(w, action, b.Shape, b.Ret, nil)
			return
		}
	}
	s.mu.Lock()
	code, extra := pa.handler(s, body)
	s.mu.Unlock()
	s.amsReply(w, action, "", code, extra)
}

func containsPath(paths []string, p string) bool {
	for _, x := range paths {
		if x == p {
			return true
		}
	}
	return false
}

func (s *Sim) agencyAdsStatBody(body map[string]any) (int, map[string]any) {
	return s.agencyAdsStat(body)
}

func (s *Sim) agencyAdsDetailBody(body map[string]any) (int, map[string]any) {
	return s.agencyAdsDetail(body)
}

func (s *Sim) agencySettledRevenue(body map[string]any) (int, map[string]any) {
	return s.settlement(s.cfg.ComponentAppID, body)
}
