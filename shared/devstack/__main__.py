"""`python -m shared.devstack up|down|status|env`: the local Kafka, PostgreSQL and Keycloak."""

import argparse
import json
import os
import subprocess
import sys

from shared.devstack.keycloak import admin_console
from shared.devstack.processes import StackError
from shared.devstack.stack import LocalStack


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start Kafka, PostgreSQL and Keycloak (idempotent)")
    up.add_argument(
        "--reset", action="store_true", help="wipe Kafka, database and Keycloak data first"
    )
    up.add_argument(
        "--services", action="store_true", help="also migrate and start the three services"
    )
    commands.add_parser("down", help="stop the services, Keycloak, Kafka, PostgreSQL; keep data")
    commands.add_parser("status", help="what runs, as JSON")
    commands.add_parser(
        "env", help="print the exports: KAFKA_* (as the admin user), DATABASE_URL, AUTH_ISSUER"
    )
    run = commands.add_parser(
        "exec", help="run a command with the stack's environment (Kafka as the admin user)"
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)

    stack = LocalStack()
    try:
        if args.command == "up":
            endpoints = stack.up(reset=args.reset)
            print(f"Kafka      {endpoints.kafka_bootstrap_servers}")
            print(f"PostgreSQL {endpoints.database_url}")
            if endpoints.auth_issuer:
                print(f"Keycloak   {endpoints.auth_issuer}")
                print(f"           admin console {admin_console(endpoints.auth_issuer)}")
            if args.services:
                for name, url in stack.start_services(endpoints).items():
                    if name == "web":
                        print(f"{name:<10} {url}  (trang web / the web app)")
                    else:
                        print(f"{name:<10} {url}/docs  ({url}/readyz, {url}/metrics)")
        elif args.command == "down":
            stack.down()
            print("stopped; data kept in", stack.home)
        elif args.command == "status":
            print(json.dumps(stack.status(), indent=2))
        elif args.command == "exec":
            argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            environment = {**os.environ, **stack.endpoints().environment()}
            return subprocess.run(argv, env=environment, check=False).returncode
        else:
            for name, value in stack.endpoints().environment().items():
                print(f"export {name}='{value}'")
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
