package views

import (
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// rowWords are what every row of a page repeats, translated once.
type rowWords struct {
	// hidden are the hidden inputs of every form of a row (the CSRF token and where to go next).
	hidden                                 rendered
	fallback, noName                       string
	check, open, isOpen                    string
	selectApp, confirmOpen, confirmUnknown message
}

func newRowWords(b Base) *rowWords {
	// The space is the one templ writes between the inputs and the button after them.
	hidden := append(prerender(hiddenInputs(b.CSRF, b.Path)), ' ')
	return &rowWords{hidden: hidden, fallback: Asset("img/avatar.svg"), noName: b.T("(no name)"),
		check: b.T("Check eligibility"), open: b.T("Open traffic master"), isOpen: b.T("Traffic master is open"),
		selectApp:      newMessage(b, "Select %s"),
		confirmOpen:    newMessage(b, "Open the traffic master of %s (%s)? WeChat is called at once, and opening cannot be undone."),
		confirmUnknown: newMessage(b, "The outcome of the last attempt for %s (%s) is unknown: it may already be open. Check eligibility first. Open the traffic master anyway? This cannot be undone.")}
}

// accountView is one account as the list's row and its partials print it,
// every string computed once.
type accountView struct {
	*traffic.Account
	w *rowWords
	// The ids and paths derived from the appid.
	rowID, path, stateID, lastID, openID, resultID, resultTarget, checkURL, openURL string
	name, avatar, selectLabel                                                       string
	status                                                                          string
	statusTone                                                                      traffic.Tone
	state                                                                           string
	stateTone                                                                       traffic.Tone
	// refusal says why no action may be taken; openRefusal why opening is not offered.
	refusal, openRefusal string
	// confirm is the question before opening (with unknown, when the last outcome is unknown).
	confirm string
	unknown bool
	// The latest finished attempt, when hasLast.
	hasLast                                            bool
	lastPath, lastISO, lastTime, lastOutcome, lastCode string
}

// accountViews computes the rows of a page of accounts.
func accountViews(b Base, accounts []*traffic.Account) []accountView {
	w := newRowWords(b)
	views := make([]accountView, len(accounts))
	z := newArena(512*len(accounts), 16*len(accounts))
	for i, a := range accounts {
		views[i].set(b, w, z, a)
	}
	z.done()
	return views
}

// newAccountView computes one account's row, for a partial outside the list.
func newAccountView(b Base, a *traffic.Account) *accountView {
	v := &accountView{}
	z := newArena(512, 16)
	v.set(b, newRowWords(b), z, a)
	z.done()
	return v
}

func (v *accountView) set(b Base, w *rowWords, z *arena, a *traffic.Account) {
	v.Account, v.w = a, w
	id := a.AppID
	// "app-ID", "state-ID", "last-ID", "open-ID", "#result-ID" and
	// "/apps/ID/check", "/apps/ID/open", each cut whole from the arena;
	// "result-ID" and "/apps/ID" are cut from inside them.
	z.join(&v.rowID, "app-", id)
	z.join(&v.stateID, "state-", id)
	z.join(&v.lastID, "last-", id)
	z.join(&v.openID, "open-", id)
	start := z.mark()
	z.add("#result-", id)
	z.keep(&v.resultTarget, start)
	z.keep(&v.resultID, start+1)
	start = z.mark()
	z.add("/apps/", id)
	z.keep(&v.path, start)
	z.add("/check")
	z.keep(&v.checkURL, start)
	z.join(&v.openURL, "/apps/", id, "/open")

	v.name = a.NickName
	if v.name == "" {
		v.name = w.noName
	}
	v.avatar = avatarURL(a)
	if r := a.Refusal(); r != "" {
		v.refusal = b.T(r)
	} else {
		z.fill(&v.selectLabel, w.selectApp, id)
	}
	label, tone := accountStatus(a)
	v.status, v.statusTone = b.T(label), tone
	st := traffic.DescribeState(a.State)
	v.state, v.stateTone = b.T(st.Label), st.Tone
	v.unknown = a.State == traffic.StateUnknown
	switch r := OpenRefusal(a); {
	case a.State == traffic.StateOpen:
	case r != "":
		v.openRefusal = b.T(r)
	case v.unknown:
		z.fill(&v.confirm, w.confirmUnknown, v.name, id)
	default:
		z.fill(&v.confirm, w.confirmOpen, v.name, id)
	}
	if a.LastAttemptAt != nil && a.LastAttemptID != nil {
		v.hasLast = true
		z.int(&v.lastPath, "/audit/", *a.LastAttemptID)
		z.times(&v.lastISO, &v.lastTime, b, *a.LastAttemptAt)
		if a.LastOutcome != "" {
			// The label is followed by a space in the cell (before the code, if any).
			z.join(&v.lastOutcome, b.T(OutcomeLabel(a.LastOutcome)), " ")
			if a.LastCode != nil && *a.LastCode != 0 {
				z.int(&v.lastCode, "", int64(*a.LastCode))
			}
		}
	}
}
