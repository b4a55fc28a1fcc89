// Package config owns the user's configuration: the three config vars the
// buildpack reads, from a directory of one file per variable (a classic
// ENV_DIR or a CNB <platform>/env), validated into a version request and a
// download Source (the official bucket, another bucket or a mirror, whose
// credentials are used for requests and never shown or stored).
//
// Nothing here reads the process environment: the platform hands config
// vars over as files precisely so that a buildpack chooses what to trust,
// and this buildpack reads its own three names and ignores the rest.
package config
