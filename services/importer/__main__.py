"""`python -m services.importer`: runs the importer service until SIGTERM."""

from services.importer.bootstrap import build
from services.importer.config import ImporterSettings
from shared.service_app import load_settings, run_service


def main() -> None:
    settings = load_settings(ImporterSettings)
    run_service(settings, lambda: build(settings))


if __name__ == "__main__":
    main()
