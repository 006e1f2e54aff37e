package wechatsim

import "time"

func readRatio(body map[string]any) (int, bool) {
	r, ok := num(body, "share_ratio", -1)
	return r, ok && r >= 0 && r <= 100
}

// setShareRatio sets the provider's default; every Mini Program without a
// custom ratio then has it pending its merchant's confirmation.
func (s *Sim) setShareRatio(body map[string]any) (int, map[string]any) {
	r, ok := readRatio(body)
	if !ok {
		return 1700, nil
	}
	s.ams.init()
	s.ams.defaultRatio = r
	for _, id := range s.order {
		if a := s.authorizers[id]; a == nil || !a.MiniProgram {
			continue
		}
		if acc := s.account(id); acc.custom == nil {
			v := r
			acc.pending = &v
		}
	}
	return 0, nil
}

func (s *Sim) miniProgram(appID string) bool {
	a := s.authorizers[appID]
	return a != nil && a.MiniProgram
}

// setCustomShareRatio overrides one Mini Program's ratio, pending its merchant's confirmation.
func (s *Sim) setCustomShareRatio(body map[string]any) (int, map[string]any) {
	r, ok := readRatio(body)
	appID := str(body, "appid")
	if !ok || appID == "" {
		return 1700, nil
	}
	if !s.miniProgram(appID) {
		return 61003, nil
	}
	acc := s.account(appID)
	v, p := r, r
	acc.custom, acc.pending = &v, &p
	return 0, nil
}

// getShareRatio returns the provider's default for its own appid and the
// ratio in effect for a Mini Program's.
func (s *Sim) getShareRatio(body map[string]any) (int, map[string]any) {
	appID := str(body, "appid")
	s.ams.init()
	switch {
	case appID == s.cfg.ComponentAppID:
		return 0, map[string]any{"share_ratio": s.ams.defaultRatio}
	case s.miniProgram(appID):
		today := s.cfg.Now().In(chinaTime).Format(time.DateOnly)
		return 0, map[string]any{"share_ratio": s.ratioOn(s.account(appID), today)}
	case appID == "":
		return 1700, nil
	}
	return 61003, nil
}

// getCustomShareRatio returns the custom ratio set (pending or not); 2061 when none.
func (s *Sim) getCustomShareRatio(body map[string]any) (int, map[string]any) {
	appID := str(body, "appid")
	if appID == "" {
		return 1700, nil
	}
	if !s.miniProgram(appID) {
		return 61003, nil
	}
	acc := s.account(appID)
	if acc.custom == nil {
		return 2061, nil
	}
	return 0, map[string]any{"share_ratio": *acc.custom}
}
