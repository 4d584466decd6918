"""`python -m services.contacts`: runs the contacts service until SIGTERM."""

from services.contacts.bootstrap import build
from services.contacts.config import ContactsSettings
from shared.service_app import load_settings, run_service


def main() -> None:
    settings = load_settings(ContactsSettings)
    run_service(settings, lambda: build(settings))


if __name__ == "__main__":
    main()
