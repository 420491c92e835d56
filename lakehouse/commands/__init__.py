"""The `lakehouse` subcommands, one module each (`register(subparsers)`). A command calls services
(the core, the runtime, the dashboard, generate); it never imports another command."""
