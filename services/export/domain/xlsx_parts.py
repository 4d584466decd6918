"""The small, fixed parts of an exported XLSX package (SpreadsheetML, ECMA-376).

Only the data sheet is streamed (xlsx_writer.py); everything here is a few hundred bytes
built from the columns, the export id and the final row count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from services.export.domain.columns import ExportColumn
from shared.events import Locale
from shared.fields import FieldType

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

DATA_SHEET_PATH = "xl/worksheets/sheet1.xml"
META_SHEET_PATH = "xl/worksheets/sheet2.xml"
META_SHEET_NAME = "crm_bulk_meta"
META_MARKER = "crm-bulk-export"
META_FORMAT_VERSION = "1"
CUSTOM_PROPERTY_EXPORT_ID = "crm_bulk_export_id"
# The format id that Office gives every user-defined document property.
_CUSTOM_PROPERTIES_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

# Cell style indices (cellXfs) used by the data sheet.
STYLE_HEADER = 1
STYLE_DATE = 2
STYLE_DATETIME = 3
STYLE_TEXT = 4  # number format "@": what the user types there stays text (leading zeros)

_TYPE_WIDTHS: dict[FieldType, int] = {
    FieldType.ID: 12,
    FieldType.TEXT: 24,
    FieldType.LONG_TEXT: 40,
    FieldType.EMAIL: 30,
    FieldType.EMAIL_LIST: 32,
    FieldType.PHONE: 18,
    FieldType.PHONE_LIST: 20,
    FieldType.URL: 30,
    FieldType.DATE: 12,
    FieldType.DATETIME: 20,
    FieldType.BOOLEAN: 10,
    FieldType.NUMBER: 12,
    FieldType.DECIMAL: 14,
    FieldType.OWNER: 22,
    FieldType.LIFECYCLE_STAGE: 22,
    FieldType.TAG_LIST: 24,
    FieldType.MULTI_SELECT: 24,
    FieldType.SINGLE_SELECT: 18,
}
MAX_COLUMN_WIDTH = 60
# Room for the autofilter's drop-down button beside the header text.
_FILTER_BUTTON_WIDTH = 3

# Columns whose cells carry the "@" format: values that look like numbers but are not.
TEXT_FORMAT_TYPES = frozenset({FieldType.ID, FieldType.PHONE, FieldType.PHONE_LIST})


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_width(column: ExportColumn) -> int:
    """From the header (so it is never cut) and the field type, capped: rows are streamed,
    so their longest value is unknown when the widths must be written."""
    by_header = len(column.header) + _FILTER_BUTTON_WIDTH + 1
    return min(max(by_header, _TYPE_WIDTHS.get(column.field.type, 16)), MAX_COLUMN_WIDTH)


def date_formats(locale: str) -> tuple[str, str]:
    """Number formats of date and datetime cells: as the CSV of that locale writes them."""
    if locale == Locale.EN:
        return "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
    return "dd/mm/yyyy", "dd/mm/yyyy hh:mm:ss"


def content_types() -> str:
    ct = "application/vnd.openxmlformats-officedocument"
    overrides = [
        ("/xl/workbook.xml", f"{ct}.spreadsheetml.sheet.main+xml"),
        ("/" + DATA_SHEET_PATH, f"{ct}.spreadsheetml.worksheet+xml"),
        ("/" + META_SHEET_PATH, f"{ct}.spreadsheetml.worksheet+xml"),
        ("/xl/styles.xml", f"{ct}.spreadsheetml.styles+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", f"{ct}.extended-properties+xml"),
        ("/docProps/custom.xml", f"{ct}.custom-properties+xml"),
    ]
    return (
        XML_DECLARATION + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides)
        + "</Types>"
    )


def package_relationships() -> str:
    od = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return _relationships(
        [
            (f"{od}/officeDocument", "xl/workbook.xml"),
            (
                "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
                "docProps/core.xml",
            ),
            (f"{od}/extended-properties", "docProps/app.xml"),
            (f"{od}/custom-properties", "docProps/custom.xml"),
        ]
    )


def workbook_relationships() -> str:
    od = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return _relationships(
        [
            (f"{od}/worksheet", "worksheets/sheet1.xml"),
            (f"{od}/worksheet", "worksheets/sheet2.xml"),
            (f"{od}/styles", "styles.xml"),
        ]
    )


def _relationships(targets: Sequence[tuple[str, str]]) -> str:
    return (
        XML_DECLARATION
        + f'<Relationships xmlns="{PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{kind}" Target="{target}"/>'
            for n, (kind, target) in enumerate(targets, start=1)
        )
        + "</Relationships>"
    )


def core_properties(created_at: datetime | None) -> str:
    created = ""
    if created_at is not None:
        stamp = created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        created = f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
    return (
        XML_DECLARATION
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>crm-bulk</dc:creator>" + created + "</cp:coreProperties>"
    )


def app_properties() -> str:
    return (
        XML_DECLARATION
        + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>crm-bulk</Application></Properties>"
    )


def custom_properties(export_id: str) -> str:
    return (
        XML_DECLARATION + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f'<property fmtid="{_CUSTOM_PROPERTIES_FMTID}" pid="2" name="{CUSTOM_PROPERTY_EXPORT_ID}">'
        f"<vt:lpwstr>{escape(export_id)}</vt:lpwstr></property></Properties>"
    )


def workbook(data_sheet_name: str, last_column: str, last_row: int) -> str:
    # The hidden _FilterDatabase name is how Excel itself records an autofilter's range.
    return (
        XML_DECLARATION + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<bookViews><workbookView activeTab="0" firstSheet="0"/></bookViews><sheets>'
        f'<sheet name={quoteattr(data_sheet_name)} sheetId="1" r:id="rId1"/>'
        f'<sheet name="{META_SHEET_NAME}" sheetId="2" state="veryHidden" r:id="rId2"/>'
        "</sheets><definedNames>"
        '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{escape(_quote_sheet(data_sheet_name))}!$A$1:${last_column}${last_row}</definedName>"
        "</definedNames></workbook>"
    )


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def styles(locale: str) -> str:
    date_format, datetime_format = date_formats(locale)
    return (
        XML_DECLARATION + f'<styleSheet xmlns="{MAIN_NS}">'
        f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{date_format}"/>'
        f'<numFmt numFmtId="165" formatCode="{datetime_format}"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="5">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def data_sheet_start(columns: Sequence[ExportColumn]) -> str:
    """Everything before the first row: frozen header pane, column widths."""
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{column_width(c)}" customWidth="1"'
        + (f' style="{STYLE_TEXT}"' if c.field.type in TEXT_FORMAT_TYPES else "")
        + "/>"
        for n, c in enumerate(columns, start=1)
    )
    return (
        XML_DECLARATION + f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols><sheetData>"
    )


def data_sheet_end(last_column: str, last_row: int) -> str:
    return (
        f'</sheetData><autoFilter ref="A1:{last_column}{last_row}"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


def meta_sheet(export_id: str, field_keys: Sequence[str], text_cell: Callable[[str, str], str]) -> str:
    """The very hidden sheet by which the importer recognises its own files."""
    rows = [
        [META_MARKER, META_FORMAT_VERSION],
        ["export_id", export_id],
        ["field_keys", *field_keys],
    ]
    body = "".join(
        f'<row r="{r}">'
        + "".join(text_cell(f"{column_letter(c)}{r}", value) for c, value in enumerate(values))
        + "</row>"
        for r, values in enumerate(rows, start=1)
    )
    return (
        XML_DECLARATION + f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetData>{body}</sheetData></worksheet>'
    )
