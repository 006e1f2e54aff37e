package wechatsim

import (
	"context"
	"fmt"
)

// Authorize registers an account as AddAuthorizer does and pushes the
// `authorized` event WeChat sends when an account authorizes the platform
// (with an authorization code, as WeChat's). It returns the event so a test
// can deliver it again, as WeChat does when it gets no `success`.
func (s *Sim) Authorize(ctx context.Context, a Authorizer) ([]byte, error) {
	s.AddAuthorizer(a)
	now := s.cfg.Now()
	code := "queryauthcode@@@" + randHex(24)
	s.mu.Lock()
	s.authCodes[code] = authCode{appID: a.AppID, expires: now.Add(authCodeTTL)}
	s.mu.Unlock()
	ev := s.eventXML("authorized", fmt.Sprintf("<AuthorizerAppid><![CDATA[%s]]></AuthorizerAppid><AuthorizationCode><![CDATA[%s]]></AuthorizationCode><AuthorizationCodeExpiredTime>%d</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@%s]]></PreAuthCode>",
		a.AppID, code, now.Add(authCodeTTL).Unix(), randHex(8)))
	return ev, s.PushEvent(ctx, ev)
}
