// Package config owns the buildpack's user configuration: the three config
// vars it honours, read from a directory of one file per variable (a classic
// ENV_DIR or a CNB <platform>/env), validated, and turned into the URL each
// artifact is downloaded from.
//
// Nothing here touches the process environment. The classic platform hands
// config vars over as files precisely so that a buildpack chooses what to
// trust; this buildpack reads its own three names and ignores the rest.
package config
