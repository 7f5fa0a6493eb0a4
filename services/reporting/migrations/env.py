from shared.migrations import run_env, target_metadata

run_env(target_metadata("reporting"))
