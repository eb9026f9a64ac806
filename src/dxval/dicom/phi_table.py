"""DICOM PS3.15 Annex E Table E.1-1 (Application Level Confidentiality Profile Attributes).

Source and edition
------------------
The rows below were transcribed from the machine-readable extraction of
PS3.15 Table E.1-1 published by the innolitics ``dicom-standard`` project
(file ``standard/confidentiality_profile_attributes.json``, commit
0d01bf11dfc1d0b73b6df85bbf6e1764d3c558a3), which is parsed from the HTML of
the DICOM Standard. That extraction does not name the edition; its content
(e.g. the Second-Generation RT attributes of Supplement 175 and the
Multi-energy CT attributes are present) places it in the 2020-2023 editions of
PS3.15. Only the columns dxval needs are kept: tag, attribute name, the Basic
Profile action code, and the options whose declaration permits keeping or
cleaning the attribute (K or C in the option's column).

Action codes (PS3.15 E.1.1): D replace with a dummy value, Z zero-length or
dummy, X remove, K keep, C clean, U replace UID; combinations such as
``X/Z/D`` depend on the IOD's type of the attribute.

Option letters (the code of CID 7050 "De-identification Method" that a file
declares in De-identification Method Code Sequence (0012,0064)):

====  ======  ===========================================================
P     113111  Retain Safe Private Option
U     113110  Retain UIDs Option
V     113109  Retain Device Identity Option
I     113112  Retain Institution Identity Option
A     113108  Retain Patient Characteristics Option
F     113106  Retain Longitudinal Temporal Information Full Dates Option
M     113107  Retain Longitudinal Temporal Information Modified Dates Option
S     113105  Clean Descriptors Option
T     113104  Clean Structured Content Option
G     113103  Clean Graphics Option
====  ======  ===========================================================

Repeating groups: ``50xx`` (curves) and ``60xx`` (overlays) match any even
group in 5000-501E / 6000-601E. Private attributes (odd groups; basic action X,
option P) are handled by the scanner, not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPTION_CODES", "TABLE_E1_1", "ProfileRow", "identifying_row_name", "match_row"]

#: Option letter → CID 7050 code value (coding scheme DCM).
OPTION_CODES: dict[str, str] = {
    "P": "113111",
    "U": "113110",
    "V": "113109",
    "I": "113112",
    "A": "113108",
    "F": "113106",
    "M": "113107",
    "S": "113105",
    "T": "113104",
    "G": "113103",
}


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """One row of Table E.1-1: tag pattern, name, Basic Profile action, excusing options."""

    tag: str
    name: str
    action: str
    options: str


# tag (8 hex digits; x = any digit of a repeating group) | action | options | name
_ROWS = """
00080050|Z||Accession Number
00184000|X|S|Acquisition Comments
00400555|X/Z|T|Acquisition Context Sequence
00080022|X/Z|FM|Acquisition Date
0008002A|X/Z/D|FM|Acquisition DateTime
00181400|X/D|S|Acquisition Device Processing Description
001811BB|D|S|Acquisition Field Of View Label
00189424|X|S|Acquisition Protocol Description
00080032|X/Z|FM|Acquisition Time
00404035|X||Actual Human Performers Sequence
001021B0|X|S|Additional Patient History
0040A353|X||Address (Trial)
00380010|X||Admission ID
00380020|X|FM|Admitting Date
00081084|X|S|Admitting Diagnoses Code Sequence
00081080|X|S|Admitting Diagnoses Description
00380021|X|FM|Admitting Time
00001000|X|U|Affected SOP Instance UID
00102110|X|AS|Allergies
40000010|X||Arbitrary
0040A078|X||Author Observer Sequence
22000005|X/Z||Barcode Value
300A00C3|X|S|Beam Description
300A00DD|X|S|Bolus Description
00101081|X||Branch of Service
0016004D|X||Camera Owner Name
00181007|X|V|Cassette ID
00120060|Z|I|Clinical Trial Coordinating Center Name
00120082|X||Clinical Trial Protocol Ethics Committee Approval Number
00120081|D|I|Clinical Trial Protocol Ethics Committee Name
00120020|D||Clinical Trial Protocol ID
00120021|Z||Clinical Trial Protocol Name
00120072|X|S|Clinical Trial Series Description
00120071|X||Clinical Trial Series ID
00120030|Z|I|Clinical Trial Site ID
00120031|Z|I|Clinical Trial Site Name
00120010|D||Clinical Trial Sponsor Name
00120040|D||Clinical Trial Subject ID
00120042|D||Clinical Trial Subject Reading ID
00120051|X|S|Clinical Trial Time Point Description
00120050|Z||Clinical Trial Time Point ID
00400310|X|S|Comments on Radiation Dose
00400280|X|S|Comments on the Performed Procedure Step
300A02EB|X|S|Compensator Description
00209161|U|U|Concatenation UID
3010000F|Z|S|Conceptual Volume Combination Description
30100017|Z|S|Conceptual Volume Description
30100006|U|U|Conceptual Volume UID
00403001|X||Confidentiality Constraint on Patient Data Description
30100013|U|U|Constituent Conceptual Volume UID
0008009C|Z||Consulting Physician's Name
0008009D|X||Consulting Physician Identification Sequence
0050001B|X||Container Component ID
0040051A|X|S|Container Description
00400512|D||Container Identifier
00700086|X||Content Creator's Identification Code Sequence
00700084|Z/D||Content Creator's Name
00080023|Z/D|FM|Content Date
0040A730|D|T|Content Sequence
00080033|Z/D|FM|Content Time
00180010|Z/D|S|Contrast/Bolus Agent
0018A003|X|S|Contribution Description
00102150|X||Country of Residence
0040A307|X||Current Observer (Trial)
00380300|X||Current Patient Location
50xxxxxx|X|G|Curve Data
00080025|X|FM|Curve Date
00080035|X|FM|Curve Time
0040A07C|X||Custodial Organization Sequence
FFFCFFFC|X||Data Set Trailing Padding
0018937F|X|S|Decomposition Description
00082111|X|S|Derivation Description
0018700A|X/D|V|Detector ID
3010001B|Z||Device Alternate Identifier
00500020|X|V|Device Description
3010002D|D|V|Device Label
00181000|X/Z/D|V|Device Serial Number
0016004B|X|S|Device Setting Description
00181002|U|UV|Device UID
FFFAFFFA|X||Digital Signatures Sequence
04000100|U||Digital Signature UID
00209164|U|U|Dimension Organization UID
00380040|X|S|Discharge Diagnosis Description
4008011A|X||Distribution Address
40080119|X||Distribution Name
300A0016|X|S|Dose Reference Description
300A0013|U|U|Dose Reference UID
3010006E|U|U|Dosimetric Objective UID
00189517|X/D|FM|End Acquisition DateTime
30100037|X|S|Entity Description
30100035|D|S|Entity Label
30100038|D|S|Entity Long Label
30100036|X|S|Entity Name
300A0676|X|S|Equipment Frame of Reference Description
00102160|X|A|Ethnic Group
00404011|X|FM|Expected Completion DateTime
00080058|U|U|Failed SOP Instance UID List
0070031A|U|U|Fiducial UID
00402017|Z||Filler Order Number / Imaging Service Request
30080054|X/D|FM|First Treatment Date
300A0196|X|S|Fixation Device Description
00340002|D||Flow Identifier
00340001|D||Flow Identifier Sequence
3010007F|Z|S|Fractionation Notes
300A0072|X|S|Fraction Group Description
00209158|X|S|Frame Comments
00200052|U|U|Frame of Reference UID
00340007|D|FM|Frame Origin Timestamp
00181008|X|V|Gantry ID
00181005|X|V|Generator ID
00160076|X||GPS Altitude
00160075|X||GPS Altitude Ref
0016008C|X||GPS Area Information
0016008D|X|FM|GPS Date Stamp
00160088|X||GPS Dest Bearing
00160087|X||GPS Dest Bearing Ref
0016008A|X||GPS Dest Distance
00160089|X||GPS Dest Distance Ref
00160084|X||GPS Dest Latitude
00160083|X||GPS Dest Latitude Ref
00160086|X||GPS Dest Longitude
00160085|X||GPS Dest Longitude Ref
0016008E|X||GPS Differential
0016007B|X||GPS DOP
00160081|X||GPS Img Direction
00160080|X||GPS Img Direction Ref
00160072|X||GPS Latitude
00160071|X||GPS Latitude Ref
00160074|X||GPS Longitude
00160073|X||GPS Longitude Ref
00160082|X||GPS Map Datum
0016007A|X||GPS Measure Mode
0016008B|X||GPS Processing Method
00160078|X||GPS Satellites
0016007D|X||GPS Speed
0016007C|X||GPS Speed Ref
00160079|X||GPS Status
00160077|X||GPS Time Stamp
0016007F|X||GPS Track
0016007E|X||GPS Track Ref
00160070|X||GPS Version ID
00700001|D|G|Graphic Annotation Sequence
00404037|X||Human Performer's Name
00404036|X||Human Performer's Organization
00880200|X||Icon Image Sequence
00084000|X|S|Identifying Comments
00204000|X|S|Image Comments
00284000|X||Image Presentation Comments
00402400|X|S|Imaging Service Request Comments
003A0314|D|FM|Impedance Measurement DateTime
40080300|X|S|Impressions
00080015|X|FM|Instance Coercion DateTime
00080014|U|U|Instance Creator UID
04000600|X||Instance Origin Status
00080081|X|I|Institution Address
00081040|X|I|Institutional Department Name
00081041|X|I|Institutional Department Type Code Sequence
00080082|X/Z/D|I|Institution Code Sequence
00080080|X/Z/D|I|Institution Name
00101050|X||Insurance Plan Identification
3010004D|X/D|FM|Intended Phase End Date
3010004C|X/D|FM|Intended Phase Start Date
00401011|X||Intended Recipients of Results Identification Sequence
300A0741|D|FM|Interlock DateTime
300A0742|D|S|Interlock Description
300A0783|D|S|Interlock Origin Description
40080111|X||Interpretation Approver Sequence
4008010C|X||Interpretation Author
40080115|X|S|Interpretation Diagnosis Description
40080202|X||Interpretation ID Issuer
40080102|X||Interpretation Recorder
4008010B|X|S|Interpretation Text
4008010A|X||Interpretation Transcriber
00083010|U|U|Irradiation Event UID
00380011|X||Issuer of Admission ID
00380014|X||Issuer of Admission ID Sequence
00100021|X||Issuer of Patient ID
00380061|X||Issuer of Service Episode ID
00380064|X||Issuer of Service Episode ID Sequence
00400513|Z||Issuer of the Container Identifier Sequence
00400562|Z||Issuer of the Specimen Identifier Sequence
22000002|X/Z|S|Label Text
00281214|U|U|Large Palette Color Lookup Table UID
001021D0|X|FM|Last Menstrual Date
0016004F|X|V|Lens Make
00160050|X|V|Lens Model
00160051|X|V|Lens Serial Number
0016004E|X|V|Lens Specification
00500021|X|S|Long Device Description
04000404|X||MAC
0016002B|X|S|Maker Note
0018100B|U|UV|Manufacturer's Device Class UID
30100043|Z|V|Manufacturer's Device Identifier
00020003|U|U|Media Storage SOP Instance UID
00102000|X|S|Medical Alerts
00101090|X||Medical Record Locator
00101080|X||Military Rank
04000550|X||Modified Attributes Sequence
00203406|X||Modified Image Description
00203401|X||Modifying Device ID
30080056|X/D|FM|Most Recent Treatment Date
0018937B|X|S|Multi-energy Acquisition Description
003A0310|U|U|Multiplex Group UID
00081060|X||Name of Physician(s) Reading Study
00401010|X||Names of Intended Recipients of Results
04000551|X||Nonconforming Modified Attributes Sequence
04000552|X||Nonconforming Data Element Value
0040A192|X|FM|Observation Date (Trial)
0040A402|U|U|Observation Subject UID (Trial)
0040A193|X|FM|Observation Time (Trial)
0040A171|U|U|Observation UID
00102180|X|S|Occupation
00081072|X/D||Operator Identification Sequence
00081070|X/Z/D||Operators' Name
00402010|X||Order Callback Phone Number
00402011|X||Order Callback Telecom Information
00402008|X||Order Entered By
00402009|X||Order Enterer's Location
04000561|X||Original Attributes Sequence
00101000|X||Other Patient IDs
00101002|X||Other Patient IDs Sequence
00101001|X||Other Patient Names
60xx4000|X|G|Overlay Comments
60xx3000|X|G|Overlay Data
00080024|X|FM|Overlay Date
00080034|X|FM|Overlay Time
300A0760|D|FM|Override DateTime
00281199|U|U|Palette Color Lookup Table UID
0040A07A|X||Participant Sequence
00101040|X||Patient's Address
00101010|X|A|Patient's Age
00100030|Z||Patient's Birth Date
00101005|X||Patient's Birth Name
00100032|X||Patient's Birth Time
00380400|X||Patient's Institution Residence
00100050|X||Patient's Insurance Plan Code Sequence
00101060|X||Patient's Mother's Birth Name
00100010|Z||Patient's Name
00100101|X||Patient's Primary Language Code Sequence
00100102|X||Patient's Primary Language Modifier Code Sequence
001021F0|X||Patient's Religious Preference
00100040|Z|A|Patient's Sex
00102203|X/Z|A|Patient's Sex Neutered
00101020|X|A|Patient's Size
00102155|X||Patient's Telecom Information
00102154|X||Patient's Telephone Numbers
00101030|X|A|Patient's Weight
00104000|X|S|Patient Comments
00100020|Z||Patient ID
300A0650|U|U|Patient Setup UID
00380500|X|AS|Patient State
00401004|X||Patient Transport Arrangements
00400243|X||Performed Location
00400254|X|S|Performed Procedure Step Description
00400250|X|FM|Performed Procedure Step End Date
00404051|X|FM|Performed Procedure Step End DateTime
00400251|X|FM|Performed Procedure Step End Time
00400253|X||Performed Procedure Step ID
00400244|X|FM|Performed Procedure Step Start Date
00404050|X|FM|Performed Procedure Step Start DateTime
00400245|X|FM|Performed Procedure Step Start Time
00400241|X|V|Performed Station AE Title
00404030|X|V|Performed Station Geographic Location Code Sequence
00400242|X|V|Performed Station Name
00404028|X|V|Performed Station Name Code Sequence
00081050|X||Performing Physician's Name
00081052|X||Performing Physician Identification Sequence
00401102|X||Person's Address
00401104|X||Person's Telecom Information
00401103|X||Person's Telephone Numbers
00401101|D||Person Identification Code Sequence
0040A123|D||Person Name
00081048|X||Physician(s) of Record
00081049|X||Physician(s) of Record Identification Sequence
00081062|X||Physician(s) Reading Study Identification Sequence
40080114|X||Physician Approving Interpretation
00402016|Z||Placer Order Number / Imaging Service Request
00181004|X|V|Plate ID
001021C0|X|A|Pregnancy Status
00400012|X|A|Pre-Medication
300A000E|X|S|Prescription Description
3010007B|Z|S|Prescription Notes
30100081|Z|S|Prescription Notes Sequence
00701101|U|U|Presentation Display Collection UID
00701102|U|U|Presentation Sequence Collection UID
30100061|X|S|Prior Treatment Dose Description
00404052|X|FM|Procedure Step Cancellation DateTime
00181030|X/D|S|Protocol Name
300A0619|D|S|Radiation Dose Identification Label
300A0623|D|S|Radiation Dose In-Vivo Measurement Label
300A067D|Z|S|Radiation Generation Mode Description
300A067C|D|S|Radiation Generation Mode Label
300C0113|X|S|Reason for Omission Description
0040100A|X|S|Reason for Requested Procedure Code Sequence
00321030|X|S|Reason for Study
3010005C|Z|S|Reason for Superseding
00402001|X|S|Reason for the Imaging Service Request
00401002|X|S|Reason for the Requested Procedure
00321066|X|S|Reason for Visit
00321067|X|S|Reason for Visit Code Sequence
300A073A|D|FM|Recorded RT Control Point DateTime
3010000B|U|U|Referenced Conceptual Volume UID
04000402|X||Referenced Digital Signature Sequence
300A0083|U|U|Referenced Dose Reference UID
3010006F|U|U|Referenced Dosimetric Objective UID
30100031|U|U|Referenced Fiducials UID
30060024|U|U|Referenced Frame of Reference UID
00404023|U|U|Referenced General Purpose Scheduled Procedure Step Transaction UID
00081140|X/Z/U*|U|Referenced Image Sequence
0040A172|U|U|Referenced Observation UID (Trial)
00380004|X||Referenced Patient Alias Sequence
00101100|X||Referenced Patient Photo Sequence
00081120|X||Referenced Patient Sequence
00081111|X/Z/D|U|Referenced Performed Procedure Step Sequence
04000403|X||Referenced SOP Instance MAC Sequence
00081155|U|U|Referenced SOP Instance UID
00041511|U|U|Referenced SOP Instance UID in File
00081110|X/Z|U|Referenced Study Sequence
00080092|X||Referring Physician's Address
00080090|Z||Referring Physician's Name
00080094|X||Referring Physician's Telephone Numbers
00080096|X||Referring Physician Identification Sequence
00102152|X||Region of Residence
300600C2|U|U|Related Frame of Reference UID
00400275|X|S|Request Attributes Sequence
00321070|X|S|Requested Contrast Agent
00401400|X|S|Requested Procedure Comments
00321060|X/Z|S|Requested Procedure Description
00401001|X||Requested Procedure ID
00401005|X||Requested Procedure Location
00189937|X|S|Requested Series Description
00001001|U|U|Requested SOP Instance UID
00321032|X||Requesting Physician
00321033|X||Requesting Service
00189185|X|S|Respiratory Motion Compensation Technique Description
00102299|X||Responsible Organization
00102297|X||Responsible Person
40084000|X|S|Results Comments
40080118|X||Results Distribution List Sequence
40080042|X||Results ID Issuer
300E0008|X/Z||Reviewer Name
30060028|X|S|ROI Description
30060038|X|S|ROI Generation Description
300600A6|Z||ROI Interpreter
30060026|Z|S|ROI Name
30060088|X|S|ROI Observation Description
30060085|X|S|ROI Observation Label
300A0615|Z||RT Accessory Device Slot ID
300A0611|Z||RT Accessory Holder Slot ID
3010005A|Z|S|RT Physician Intent Narrative
300A0006|X/D|FM|RT Plan Date
300A0004|X|S|RT Plan Description
300A0002|D|S|RT Plan Label
300A0003|X|S|RT Plan Name
300A0007|X/D|FM|RT Plan Time
30100054|D|S|RT Prescription Label
300A062A|D|S|RT Tolerance Set Label
30100056|X/D|S|RT Treatment Approach Label
3010003B|U|U|RT Treatment Phase UID
00404034|X||Scheduled Human Performers Sequence
0038001E|X||Scheduled Patient Institution Residence
00400006|X||Scheduled Performing Physician's Name
0040000B|X||Scheduled Performing Physician Identification Sequence
00400007|X|S|Scheduled Procedure Step Description
00400004|X|FM|Scheduled Procedure Step End Date
00400005|X|FM|Scheduled Procedure Step End Time
00404008|X|FM|Scheduled Procedure Step Expiration DateTime
00400009|X||Scheduled Procedure Step ID
00400011|X|V|Scheduled Procedure Step Location
00404010|X|FM|Scheduled Procedure Step Modification DateTime
00400002|X|FM|Scheduled Procedure Step Start Date
00404005|X|FM|Scheduled Procedure Step Start DateTime
00400003|X|FM|Scheduled Procedure Step Start Time
00400001|X|V|Scheduled Station AE Title
00404027|X|V|Scheduled Station Geographic Location Code Sequence
00400010|X|V|Scheduled Station Name
00404025|X|V|Scheduled Station Name Code Sequence
00321020|X|V|Scheduled Study Location
00321021|X|V|Scheduled Study Location AE Title
00080021|X/D|FM|Series Date
0008103E|X|S|Series Description
0020000E|U|U|Series Instance UID
00080031|X/D|FM|Series Time
00380062|X|S|Service Episode Description
00380060|X||Service Episode ID
300A01B2|X|S|Setup Technique Description
300A01A6|X|S|Shielding Device Description
004006FA|X||Slide Identifier
001021A0|X|A|Smoking Status
00080018|U|U|SOP Instance UID
30100015|U|U|Source Conceptual Volume UID
0018936A|D|FM|Source End DateTime
00340005|D||Source Identifier
00082112|X/Z/U*|U|Source Image Sequence
300A0216|X|V|Source Manufacturer
30080105|X/Z|V|Source Serial Number
00189369|D|FM|Source Start DateTime
00380050|X|A|Special Needs
0040050A|X||Specimen Accession Number
00400602|X|S|Specimen Detailed Description
00400551|D||Specimen Identifier
00400610|Z|T|Specimen Preparation Sequence
00400600|X|S|Specimen Short Description
00400554|U|U|Specimen UID
00189516|X/D|FM|Start Acquisition DateTime
00081010|X/Z/D|V|Station Name
00880140|U|U|Storage Media File-set UID
30060008|Z|FM|Structure Set Date
30060006|X|S|Structure Set Description
30060002|D|S|Structure Set Label
30060004|X|S|Structure Set Name
30060009|X/D|FM|Structure Set Time
00324000|X|S|Study Comments
00080020|Z|FM|Study Date
00081030|X|S|Study Description
00200010|Z||Study ID
00320012|X||Study ID Issuer
0020000D|U|U|Study Instance UID
00080030|Z|FM|Study Time
00200200|U|U|Synchronization Frame of Reference UID
00182042|U|U|Target UID
0040A354|X||Telephone Number (Trial)
0040DB0D|U|U|Template Extension Creator UID
0040DB0C|U|U|Template Extension Organization UID
40004000|X||Text Comments
20300020|X||Text String
00080201|X|FM|Timezone Offset From UTC
00880910|X||Topic Author
00880912|X||Topic Keywords
00880906|X||Topic Subject
00880904|X||Topic Title
00620021|U|U|Tracking UID
00081195|U|U|Transaction UID
00185011|X|V|Transducer Identification Sequence
30080250|X/D|FM|Treatment Date
300A00B2|X|V|Treatment Machine Name
300A0608|D|S|Treatment Position Group Label
300A0609|U|U|Treatment Position Group UID
300A0700|U|U|Treatment Session UID
30100077|D|S|Treatment Site
3010007A|Z|S|Treatment Technique Notes
30080251|X/D|FM|Treatment Time
300A0736|D|FM|Treatment Tolerance Violation DateTime
300A0734|D|S|Treatment Tolerance Violation Description
0018100A|X|V|UDI Sequence
0040A124|U||UID
00181009|X|V|Unique Device Identifier
30100033|D|S|User Content Label
30100034|D|S|User Content Long Label
0040A352|X||Verbal Source (Trial)
0040A358|X||Verbal Source Identifier Code Sequence (Trial)
0040A088|Z||Verifying Observer Identification Code Sequence
0040A075|D||Verifying Observer Name
0040A073|D||Verifying Observer Sequence
0040A027|D||Verifying Organization
00384000|X|S|Visit Comments
00189371|D|V|X-Ray Detector ID
00189373|X|V|X-Ray Detector Label
00189367|D|V|X-Ray Source ID
"""


def _parse(text: str) -> tuple[ProfileRow, ...]:
    rows = []
    for line in text.strip().splitlines():
        tag, action, options, name = line.split("|")
        rows.append(ProfileRow(tag=tag.upper(), name=name, action=action, options=options))
    return tuple(rows)


#: Every row of Table E.1-1 except the private-attribute row.
TABLE_E1_1: tuple[ProfileRow, ...] = _parse(_ROWS)

_EXACT: dict[int, ProfileRow] = {int(row.tag, 16): row for row in TABLE_E1_1 if "X" not in row.tag}
_CURVE = next(row for row in TABLE_E1_1 if row.tag == "50XXXXXX")
_OVERLAYS = {int(row.tag[4:], 16): row for row in TABLE_E1_1 if row.tag.startswith("60XX")}


def match_row(tag: int) -> ProfileRow | None:
    """The Table E.1-1 row that covers ``tag`` (a 32-bit DICOM tag), or None.

    Repeating groups follow PS3.5 7.6: an even group 5000-501E (curves) or
    6000-601E (overlays).
    """
    row = _EXACT.get(tag)
    if row is not None:
        return row
    group, element = tag >> 16, tag & 0xFFFF
    if group % 2 == 0 and 0x5000 <= group <= 0x501E:
        return _CURVE
    if group % 2 == 0 and 0x6000 <= group <= 0x601E:
        return _OVERLAYS.get(element)
    return None


def identifying_row_name(keyword: str) -> str | None:
    """The Table E.1-1 attribute name of a DICOM keyword (e.g. ``Patient's Sex``), or None."""
    from dxval.dicom.phi_keywords import KEYWORD_TAGS  # no pydicom import (issue 18)

    tag = KEYWORD_TAGS.get(keyword)
    row = match_row(tag) if tag is not None else None
    return row.name if row is not None else None
