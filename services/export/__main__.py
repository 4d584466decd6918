"""`python -m services.export`: runs the export service until SIGTERM."""

from services.export.bootstrap import build
from services.export.config import ExportSettings
from shared.service_app import load_settings, run_service


def main() -> None:
    settings = load_settings(ExportSettings)
    run_service(settings, lambda: build(settings))


if __name__ == "__main__":
    main()
