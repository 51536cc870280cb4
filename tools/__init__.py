"""Developer tooling: Terraform CLI setup, the emulator launcher, deploy helpers."""
