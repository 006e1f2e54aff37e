package i18n

// zhJobs holds the Chinese text of the jobs pages.
var zhJobs = map[string]string{}
