#!/usr/bin/python3
"""Generate the sample exports of Deskly, a fictional help-desk SaaS company.

Writes corpora/samples/{tickets,nps,churn,lost_deals,accounts}.csv: twelve
weeks of support tickets, NPS answers, cancellation reasons and lost deals,
2026-08-24 .. 2026-11-15, about 60% English and the rest in Hebrew, Arabic,
Thai, Russian, Spanish, German, French and Portuguese.

The texts come from hand-written pools in tools/samples_pool/*.txt (format
described at the top of tools/samples_pool/README.md); this script only picks,
fills placeholders, adds greetings, signatures, typos and export noise, and
plants the story documented in corpora/samples/README.md.

Standard library only, fixed seed: running it twice writes identical bytes.

    /usr/bin/python3 tools/gen_samples.py             # write the five files
    /usr/bin/python3 tools/gen_samples.py --summary   # also print the planted numbers
    /usr/bin/python3 tools/gen_samples.py --out DIR   # write somewhere else
"""

import argparse
import csv
import datetime as dt
import os
import random
import re
import unicodedata

SEED = 20261115
START = dt.date(2026, 8, 24)          # a Monday
WEEKS = 12
END = START + dt.timedelta(days=7 * WEEKS - 1)   # 2026-11-15, a Sunday
INCIDENT_WEEK = 9                     # 1-based: 2026-10-19 .. 2026-10-25

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
POOL_DIR = os.path.join(HERE, "samples_pool")

LANGS = ["en", "he", "ar", "th", "ru", "es", "de", "fr", "pt"]
LANG_MIX = {"en": 0.60, "he": 0.05, "ar": 0.05, "th": 0.05, "ru": 0.05,
            "es": 0.05, "de": 0.05, "fr": 0.05, "pt": 0.05}
# Share of a non-English account's texts written in English anyway.
WRITES_ENGLISH = {"he": 0.25, "ar": 0.15, "th": 0.12, "ru": 0.08,
                  "es": 0.06, "de": 0.10, "fr": 0.05, "pt": 0.06}

AREAS = ["onboarding_setup", "billing_pricing", "performance_reliability",
         "integrations_api", "reporting_analytics", "notifications",
         "mobile_app", "usability_ui", "permissions_security",
         "workflow_automation", "search", "data_import_export",
         "support_experience", "other"]

# ---------------------------------------------------------------------------
# The planted story (weekly numbers, week 1 = 2026-08-24)
# ---------------------------------------------------------------------------
# (1) performance & reliability gets worse from week 9 (release 5.2 and the
#     move to the new EU/US clusters): background tickets plus incident
#     tickets (502s, gateway timeouts, slow inbox).
PERF_BASE_TICKETS = [13, 15, 12, 14, 16, 13, 15, 14, 14, 15, 16, 14]
PERF_INCIDENT_TICKETS = [0, 0, 0, 0, 0, 0, 0, 0, 25, 32, 36, 30]
PERF_INCIDENT_NPS = [0, 0, 0, 0, 0, 0, 0, 0, 12, 15, 16, 14]
PERF_CHURN = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 1]
# Outage days get three times the incident tickets of a normal day.
OUTAGE_DAYS = [dt.date(2026, 10, 19), dt.date(2026, 10, 27),
               dt.date(2026, 11, 4), dt.date(2026, 11, 10)]
# (2) a rising feature request: two-way Jira sync (Atlassian's Server end of
#     life pushes customers to Jira Cloud; Deskly's connector is one-way).
JIRA_TICKETS = [1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 14]
JIRA_NPS = [0, 0, 1, 0, 1, 1, 1, 2, 2, 3, 4, 5]
JIRA_CHURN = [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1]
JIRA_LOST = [0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1]
# (3) a competitor: HelpHub (cheaper per seat, AI triage, WhatsApp channel,
#     launched in September) takes churned customers and lost deals.
HELPHUB_CHURN = [0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 3, 4]
HELPHUB_LOST = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
HELPHUB_NPS = [0, 0, 0, 1, 0, 1, 1, 1, 1, 2, 2, 2]
HELPHUB_TICKETS = [0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1]

N_TICKETS = 3000
N_NPS = 800
CHURN_PER_WEEK = [9, 10, 10, 11, 9, 10, 10, 10, 10, 11, 10, 10]
LOST_PER_WEEK = [12, 13, 12, 13, 12, 13, 12, 13, 12, 12, 13, 13]

# Background ticket mix by area (performance is planned separately above).
TICKET_AREA_SHARE = {
    "onboarding_setup": 7, "billing_pricing": 10, "integrations_api": 11,
    "reporting_analytics": 8, "notifications": 7, "mobile_app": 6,
    "usability_ui": 8, "permissions_security": 7, "workflow_automation": 10,
    "search": 5, "data_import_export": 6, "support_experience": 4,
    "other": 4,
}
TICKET_KIND_SHARE = {"bug": 34, "question": 30, "feature_request": 18,
                     "complaint": 14, "praise": 2, "other": 2}

NPS_AREA_BY_KIND = {
    "praise": {"other": 22, "workflow_automation": 11, "usability_ui": 10,
               "support_experience": 13, "reporting_analytics": 7,
               "integrations_api": 7, "onboarding_setup": 6,
               "mobile_app": 4, "notifications": 3, "search": 3,
               "permissions_security": 3, "billing_pricing": 4,
               "performance_reliability": 4, "data_import_export": 3},
    "complaint": {"billing_pricing": 15, "support_experience": 11,
                  "usability_ui": 10, "performance_reliability": 9,
                  "reporting_analytics": 8, "notifications": 7,
                  "mobile_app": 7, "integrations_api": 7,
                  "workflow_automation": 6, "search": 6,
                  "onboarding_setup": 5, "permissions_security": 4,
                  "data_import_export": 3, "other": 2},
    "feature_request": {"reporting_analytics": 13, "integrations_api": 12,
                        "mobile_app": 9, "usability_ui": 10,
                        "workflow_automation": 12, "notifications": 6,
                        "search": 7, "permissions_security": 6,
                        "data_import_export": 6, "onboarding_setup": 5,
                        "billing_pricing": 5, "support_experience": 4,
                        "performance_reliability": 2, "other": 3},
}
NPS_BASE_SCORES = [3.0, 1.5, 2.0, 2.5, 3.0, 5.0, 6.0, 11.0, 17.0, 22.0, 27.0]
NPS_INCIDENT_SCORES = [15, 10, 12, 13, 15, 14, 12, 6, 3, 0, 0]

CHURN_OTHER_REASONS = (["competitor"] * 8 + ["price"] * 20 +
                       ["business_closed"] * 18 + ["not_adopted"] * 15 +
                       ["no_value"] * 12 + ["missing_capability"] * 10 +
                       ["other"] * 3)
LOST_OTHER_REASONS = (["competitor"] * 44 + ["price"] * 15 +
                      ["missing_capability"] * 16 + ["not_adopted"] * 15 +
                      ["business_closed"] * 6 + ["no_value"] * 5 +
                      ["other"] * 3)
# Who cancels, by written reason: small accounts churn, large ones rarely.
CHURN_SEGMENTS = {
    "business_closed": {"SMB": 90, "Mid-Market": 10},
    "price": {"SMB": 75, "Mid-Market": 25},
    "not_adopted": {"SMB": 80, "Mid-Market": 20},
    "no_value": {"SMB": 85, "Mid-Market": 15},
    "missing_capability": {"SMB": 55, "Mid-Market": 42, "Enterprise": 3},
    "competitor": {"SMB": 55, "Mid-Market": 45},
    "other": {"SMB": 70, "Mid-Market": 30},
    "helphub": {"SMB": 50, "Mid-Market": 50},
    "perf": {"SMB": 45, "Mid-Market": 55},
    "jira2way": {"Mid-Market": 100},
}
COMPETITORS = {"Zendesk": 16, "Freshdesk": 12, "Intercom": 8,
               "Help Scout": 5, "Front": 4, "Zoho Desk": 3}

# ---------------------------------------------------------------------------
# Countries, names, companies
# ---------------------------------------------------------------------------
# code: (language, weight within language, UTC offset hours, TLD, currency)
COUNTRIES = {
    "US": ("en", 52, -5, ".com", "USD"), "GB": ("en", 15, 0, ".co.uk", "GBP"),
    "CA": ("en", 8, -5, ".ca", "CAD"), "AU": ("en", 7, 10, ".com.au", "AUD"),
    "IE": ("en", 3, 0, ".ie", "EUR"), "IN": ("en", 5, 5.5, ".in", "INR"),
    "NZ": ("en", 2, 13, ".co.nz", "NZD"), "SG": ("en", 3, 8, ".sg", "SGD"),
    "ZA": ("en", 2, 2, ".co.za", "ZAR"), "NL": ("en", 2, 1, ".nl", "EUR"),
    "SE": ("en", 1, 1, ".se", "EUR"),
    "IL": ("he", 1, 2, ".co.il", "ILS"),
    "SA": ("ar", 5, 3, ".sa", "SAR"), "AE": ("ar", 5, 4, ".ae", "AED"),
    "EG": ("ar", 3, 2, ".com.eg", "EGP"), "JO": ("ar", 2, 3, ".jo", "JOD"),
    "TH": ("th", 1, 7, ".co.th", "THB"),
    "RU": ("ru", 5, 3, ".ru", "RUB"), "KZ": ("ru", 1, 5, ".kz", "KZT"),
    "ES": ("es", 5, 1, ".es", "EUR"), "MX": ("es", 5, -6, ".com.mx", "MXN"),
    "AR": ("es", 3, -3, ".com.ar", "ARS"), "CO": ("es", 2, -5, ".co", "COP"),
    "CL": ("es", 2, -3, ".cl", "CLP"),
    "DE": ("de", 7, 1, ".de", "EUR"), "AT": ("de", 2, 1, ".at", "EUR"),
    "CH": ("de", 2, 1, ".ch", "CHF"),
    "FR": ("fr", 7, 1, ".fr", "EUR"), "BE": ("fr", 2, 1, ".be", "EUR"),
    "MA": ("fr", 1, 1, ".ma", "MAD"),
    "BR": ("pt", 6, -3, ".com.br", "BRL"), "PT": ("pt", 3, 0, ".pt", "EUR"),
}
ACCOUNTS_PER_LANG = {"en": 330, "he": 30, "ar": 30, "th": 30, "ru": 30,
                     "es": 30, "de": 30, "fr": 30, "pt": 30}

# Names: (latin, native, female?) so that e-mail addresses stay ASCII.
PEOPLE = {
    "en": ([("James", "James", 0), ("Mary", "Mary", 1), ("Robert", "Robert", 0),
            ("Jennifer", "Jennifer", 1), ("Michael", "Michael", 0),
            ("Linda", "Linda", 1), ("David", "David", 0), ("Sarah", "Sarah", 1),
            ("Chris", "Chris", 0), ("Jessica", "Jessica", 1),
            ("Daniel", "Daniel", 0), ("Emily", "Emily", 1), ("Matt", "Matt", 0),
            ("Ashley", "Ashley", 1), ("Ryan", "Ryan", 0), ("Megan", "Megan", 1),
            ("Kevin", "Kevin", 0), ("Laura", "Laura", 1), ("Brian", "Brian", 0),
            ("Rachel", "Rachel", 1), ("Jason", "Jason", 0),
            ("Nicole", "Nicole", 1), ("Tom", "Tom", 0), ("Hannah", "Hannah", 1),
            ("Priya", "Priya", 1), ("Raj", "Raj", 0), ("Wei", "Wei", 0),
            ("Mei", "Mei", 1), ("Carlos", "Carlos", 0), ("Aisha", "Aisha", 1),
            ("Liam", "Liam", 0), ("Olivia", "Olivia", 1), ("Noah", "Noah", 0),
            ("Emma", "Emma", 1), ("Ethan", "Ethan", 0), ("Chloe", "Chloe", 1),
            ("Sam", "Sam", 0), ("Grace", "Grace", 1), ("Jake", "Jake", 0),
            ("Zoe", "Zoe", 1), ("Pieter", "Pieter", 0), ("Ingrid", "Ingrid", 1)],
           [("Smith", "Smith"), ("Johnson", "Johnson"), ("Williams", "Williams"),
            ("Brown", "Brown"), ("Jones", "Jones"), ("Miller", "Miller"),
            ("Davis", "Davis"), ("Wilson", "Wilson"), ("Taylor", "Taylor"),
            ("Clark", "Clark"), ("Lewis", "Lewis"), ("Walker", "Walker"),
            ("Hall", "Hall"), ("Young", "Young"), ("King", "King"),
            ("Wright", "Wright"), ("Patel", "Patel"), ("Nguyen", "Nguyen"),
            ("Chen", "Chen"), ("O'Brien", "O'Brien"), ("Murphy", "Murphy"),
            ("Kelly", "Kelly"), ("Baker", "Baker"), ("Green", "Green"),
            ("Adams", "Adams"), ("Campbell", "Campbell"), ("Shah", "Shah"),
            ("Reyes", "Reyes"), ("Fraser", "Fraser"), ("de Vries", "de Vries")]),
    "he": ([("Yael", "יעל", 1), ("Noam", "נועם", 0), ("Avi", "אבי", 0),
            ("Michal", "מיכל", 1), ("Oren", "אורן", 0), ("Tamar", "תמר", 1),
            ("Eyal", "אייל", 0), ("Shira", "שירה", 1), ("Yossi", "יוסי", 0),
            ("Dana", "דנה", 1), ("Itai", "איתי", 0), ("Noa", "נועה", 1),
            ("Ronit", "רונית", 1), ("Gilad", "גלעד", 0)],
           [("Cohen", "כהן"), ("Levi", "לוי"), ("Mizrahi", "מזרחי"),
            ("Peretz", "פרץ"), ("Biton", "ביטון"), ("Friedman", "פרידמן"),
            ("Shapiro", "שפירא"), ("Avraham", "אברהם"), ("Katz", "כץ"),
            ("Golan", "גולן"), ("Ben-David", "בן דוד"), ("Azulay", "אזולאי")]),
    "ar": ([("Ahmed", "أحمد", 0), ("Mohammed", "محمد", 0), ("Fatima", "فاطمة", 1),
            ("Omar", "عمر", 0), ("Layla", "ليلى", 1), ("Khalid", "خالد", 0),
            ("Sara", "سارة", 1), ("Youssef", "يوسف", 0), ("Nour", "نور", 1),
            ("Hassan", "حسن", 0), ("Mona", "منى", 1), ("Tariq", "طارق", 0),
            ("Reem", "ريم", 1), ("Faisal", "فيصل", 0)],
           [("Al-Harbi", "الحربي"), ("Al-Qahtani", "القحطاني"),
            ("Mansour", "منصور"), ("Haddad", "حداد"), ("Al-Otaibi", "العتيبي"),
            ("Saleh", "صالح"), ("Nasser", "ناصر"), ("Khoury", "خوري"),
            ("Abdullah", "عبدالله"), ("Farouk", "فاروق"), ("Al-Zahrani", "الزهراني")]),
    "th": ([("Somchai", "สมชาย", 0), ("Suda", "สุดา", 1),
            ("Nattapong", "ณัฐพงษ์", 0), ("Pimchanok", "พิมพ์ชนก", 1),
            ("Kittisak", "กิตติศักดิ์", 0), ("Waraporn", "วราภรณ์", 1),
            ("Anan", "อนันต์", 0), ("Siriporn", "ศิริพร", 1),
            ("Chaiwat", "ชัยวัฒน์", 0), ("Ploy", "พลอย", 1),
            ("Tanawat", "ธนวัฒน์", 0), ("Kanokwan", "กนกวรรณ", 1)],
           [("Srisuk", "ศรีสุข"), ("Wongsawat", "วงศ์สวัสดิ์"),
            ("Chaiyaporn", "ชัยพร"), ("Rattanakorn", "รัตนากร"),
            ("Saetang", "แซ่ตั้ง"), ("Boonmee", "บุญมี"), ("Thongdee", "ทองดี"),
            ("Kaewmanee", "แก้วมณี"), ("Pongsiri", "พงษ์ศิริ")]),
    "ru": ([("Alexey", "Алексей", 0), ("Elena", "Елена", 1),
            ("Dmitry", "Дмитрий", 0), ("Olga", "Ольга", 1),
            ("Sergey", "Сергей", 0), ("Natalia", "Наталья", 1),
            ("Ivan", "Иван", 0), ("Anna", "Анна", 1), ("Pavel", "Павел", 0),
            ("Maria", "Мария", 1), ("Andrey", "Андрей", 0),
            ("Irina", "Ирина", 1), ("Nikita", "Никита", 0),
            ("Yulia", "Юлия", 1)],
           [("Ivanov", "Иванов"), ("Smirnov", "Смирнов"),
            ("Kuznetsov", "Кузнецов"), ("Popov", "Попов"),
            ("Sokolov", "Соколов"), ("Lebedev", "Лебедев"),
            ("Kozlov", "Козлов"), ("Novikov", "Новиков"),
            ("Morozov", "Морозов"), ("Volkov", "Волков"), ("Orlov", "Орлов")]),
    "es": ([(n, n, f) for n, f in [("María", 1), ("José", 0), ("Lucía", 1),
            ("Javier", 0), ("Carmen", 1), ("Diego", 0), ("Sofía", 1),
            ("Pablo", 0), ("Valentina", 1), ("Andrés", 0), ("Camila", 1),
            ("Miguel", 0), ("Paula", 1), ("Alejandro", 0)]],
           [(n, n) for n in ["García", "Martínez", "López", "Rodríguez",
                             "Fernández", "Gómez", "Díaz", "Torres", "Ramírez",
                             "Morales", "Castro", "Vargas"]]),
    "de": ([(n, n, f) for n, f in [("Thomas", 0), ("Julia", 1), ("Stefan", 0),
            ("Anna", 1), ("Michael", 0), ("Katrin", 1), ("Jens", 0),
            ("Sabine", 1), ("Lukas", 0), ("Lena", 1), ("Markus", 0),
            ("Petra", 1), ("Florian", 0), ("Jana", 1), ("Jürgen", 0)]],
           [(n, n) for n in ["Müller", "Schmidt", "Schneider", "Fischer",
                             "Weber", "Meyer", "Wagner", "Becker", "Schulz",
                             "Hoffmann", "Koch", "Richter", "Groß"]]),
    "fr": ([(n, n, f) for n, f in [("Camille", 1), ("Julien", 0),
            ("Claire", 1), ("Nicolas", 0), ("Sophie", 1), ("Thomas", 0),
            ("Manon", 1), ("Antoine", 0), ("Chloé", 1), ("Mathieu", 0),
            ("Élodie", 1), ("Pierre", 0), ("Inès", 1), ("Karim", 0)]],
           [(n, n) for n in ["Martin", "Bernard", "Dubois", "Thomas",
                             "Robert", "Richard", "Petit", "Durand", "Leroy",
                             "Moreau", "Lefèvre", "Girard", "Benali"]]),
    "pt": ([(n, n, f) for n, f in [("Ana", 1), ("João", 0), ("Mariana", 1),
            ("Pedro", 0), ("Beatriz", 1), ("Lucas", 0), ("Juliana", 1),
            ("Rafael", 0), ("Fernanda", 1), ("Gabriel", 0), ("Camila", 1),
            ("Tiago", 0)]],
           [(n, n) for n in ["Silva", "Santos", "Oliveira", "Souza",
                             "Pereira", "Costa", "Rodrigues", "Almeida",
                             "Ferreira", "Carvalho", "Gomes", "Ribeiro"]]),
}

# Company name parts per language: (prefixes, industries, suffixes by country)
COMPANY_EN_A = ["North", "Blue", "Silver", "Harbor", "Maple", "Cedar",
                "Summit", "Pioneer", "Bright", "Clear", "Iron", "Oak", "Red",
                "Golden", "Pine", "River", "Stone", "Lake", "Sun", "Falcon",
                "Atlas", "Beacon", "Crescent", "Evergreen", "Granite",
                "Horizon", "Keystone", "Lighthouse", "Meridian", "Nimbus",
                "Orchard", "Prairie", "Ridge", "Sparrow", "Tidal", "Vista",
                "Willow", "Zenith", "Copper", "Juniper", "Kestrel", "Lumen",
                "Mosaic", "Nova", "Otter", "Pebble", "Quill", "Rook", "Tandem",
                "Upland", "Wren", "Bramble", "Coral", "Driftwood", "Foxglove"]
COMPANY_EN_B = ["", "", "", "wind", "field", "point", "light", "bridge",
                "gate", "line", "path", "stone", "wave", "works", "leaf",
                "view", "side", "crest", "mark"]
COMPANY_EN_C = ["Logistics", "Health", "Dental", "Realty", "Outfitters",
                "Software", "Insurance", "Travel", "Energy", "Foods",
                "Apparel", "Home Services", "Analytics", "Labs", "Pet Supply",
                "Fitness", "Bikes", "Coffee", "Academy", "Legal",
                "Property Management", "Telecom", "Solar", "Marine",
                "Furniture", "Games", "Print", "Cloud", "Payroll", "Freight",
                "Clinics", "Ticketing", "Learning", "Pharmacy", "Motors",
                "Books", "Events", "Security", "Hosting", "Credit Union"]
COMPANY_EN_SUFFIX = {"US": ["", "", " Inc.", " LLC", ", Inc.", " Co."],
                     "GB": ["", " Ltd", " Ltd.", " plc", " Group"],
                     "default": ["", "", " Ltd", " Pty Ltd", " Group", " Pte Ltd"]}
COMPANY_NATIVE = {
    "he": ([("Shaked", "שקד"), ("Galil", "גליל"), ("Tamar", "תמר"),
            ("Arava", "ערבה"), ("Carmel", "כרמל"), ("Negev", "נגב"),
            ("Ofek", "אופק"), ("Rimon", "רימון"), ("Dekel", "דקל"),
            ("Eshkol", "אשכול"), ("Yarden", "ירדן"), ("Hermon", "חרמון"),
            ("Gefen", "גפן"), ("Zohar", "זוהר"), ("Brosh", "ברוש"),
            ("Tavor", "תבור"), ("Alon", "אלון"), ("Nitzan", "ניצן")],
           [("Insurance", "ביטוח"), ("Medical", "מדיקל"),
            ("Logistics", "לוגיסטיקה"), ("Systems", "מערכות"),
            ("Fintech", "פינטק"), ("Retail", "קמעונאות"),
            ("Cyber", "סייבר"), ("Travel", "תיירות"), ("Foods", "מזון"),
            ("Realty", "נדל״ן"), ("Imports", "יבוא"), ("Media", "מדיה")],
           [" Ltd", " Ltd.", ""], " בע״מ", 0.3),
    "ar": ([("Al Noor", "النور"), ("Al Rawabi", "الروابي"),
            ("Gulf Star", "نجمة الخليج"), ("Nile", "النيل"),
            ("Al Faisal", "الفيصل"), ("Al Manara", "المنارة"),
            ("Desert Rose", "وردة الصحراء"), ("Al Waha", "الواحة"),
            ("Al Safwa", "الصفوة"), ("Al Amal", "الأمل"), ("Petra", "البتراء"),
            ("Al Baraka", "البركة"), ("Al Masar", "المسار"),
            ("Al Ofoq", "الأفق"), ("Al Yasmeen", "الياسمين")],
           [("Trading", "للتجارة"), ("Logistics", "للخدمات اللوجستية"),
            ("Clinics", "الطبية"), ("Foods", "للأغذية"), ("Tech", "للتقنية"),
            ("Real Estate", "العقارية"), ("Contracting", "للمقاولات"),
            ("Travel", "للسفر والسياحة"), ("Electronics", "للإلكترونيات"),
            ("Pharmacies", "للصيدليات")],
           [" LLC", " Co.", " Group", " Est.", ""], "", 0.25),
    "th": ([("Siam", "สยาม"), ("Chao Phraya", "เจ้าพระยา"), ("Lanna", "ล้านนา"),
            ("Krungthep", "กรุงเทพ"), ("Andaman", "อันดามัน"),
            ("Sathorn", "สาทร"), ("Ratchada", "รัชดา"),
            ("Suvarna", "สุวรรณ"), ("Thonburi", "ธนบุรี"),
            ("Chiang Mai", "เชียงใหม่"), ("Isan", "อีสาน"), ("Mekong", "แม่โขง")],
           [("Retail", "รีเทล"), ("Logistics", "โลจิสติกส์"), ("Foods", "ฟู้ดส์"),
            ("Hospital", "ฮอสพิทอล"), ("Motors", "มอเตอร์"),
            ("Travel", "ทราเวล"), ("Tech", "เทค"), ("Cosmetics", "คอสเมติกส์"),
            ("Property", "พร็อพเพอร์ตี้"), ("Insurance", "ประกันภัย")],
           [" Co., Ltd.", " Co., Ltd.", " Public Co., Ltd."], " จำกัด", 0.3),
    "ru": ([("Sever", "Север"), ("Alfa", "Альфа"), ("Vektor", "Вектор"),
            ("Granit", "Гранит"), ("Vostok", "Восток"),
            ("Meridian", "Меридиан"), ("Ladoga", "Ладога"), ("Kedr", "Кедр"),
            ("Orbita", "Орбита"), ("Spektr", "Спектр"), ("Integra", "Интегра"),
            ("Baltika", "Балтика"), ("Volga", "Волга"), ("Ural", "Урал")],
           [("Service", "-Сервис"), ("Logistic", " Логистик"),
            ("Trade", " Трейд"), ("Soft", "Софт"), ("Media", " Медиа"),
            ("Stroy", "Строй"), ("Finance", " Финанс"),
            ("Telecom", " Телеком"), ("Digital", " Диджитал"),
            ("Retail", " Ритейл")],
           [" LLC", "", " Group"], "", 0.6),
}
COMPANY_ES = (["Grupo ", "", "", "Distribuidora ", "Clínica ", "Inmobiliaria ",
               "Seguros ", "Transportes ", "Viajes ", "Farmacias ", "Ópticas ",
               "Colegio ", "Tiendas "],
              ["Sol", "Andina", "del Valle", "Mediterráneo", "Pampa",
               "Altamira", "Costa Azul", "Los Pinos", "Cóndor", "Aurora",
               "Sierra Nevada", "Rioplatense", "Maya", "Tierra Alta",
               "Castilla", "La Esperanza", "Pacífico", "Monteverde"],
              {"ES": [" S.L.", " S.A.", ""], "MX": [" S.A. de C.V.", ""],
               "AR": [" S.A.", " S.R.L.", ""], "CO": [" S.A.S.", ""],
               "CL": [" SpA", " Ltda.", ""]})
COMPANY_DE = (["Müller", "Schneider", "Becker", "Hoffmann", "Wagner",
               "Bergmann", "Krüger", "Lehmann", "Hartmann", "Vogel",
               "Zimmermann", "Brandt", "Alpen", "Rhein", "Nordsee", "Elbe",
               "Isar", "Donau", "Schwarzwald", "Harz", "Bodensee"],
              [" Logistik", " Haustechnik", " Versicherungen", " Reisen",
               " Medizintechnik", " Software", " Elektro", " Immobilien",
               " Möbel", " Textil", " Verlag", " Solar", "-Apotheken",
               " Fahrräder", " Bau"],
              {"DE": [" GmbH", " GmbH & Co. KG", " AG", " e.K.", " GmbH"],
               "AT": [" GmbH", " KG"], "CH": [" AG", " GmbH"]})
COMPANY_FR = (["Groupe ", "", "", ""],
              ["Lumière", "Atlantique", "Provence", "Bretagne", "Alpine",
               "Rivoli", "Bellevue", "Montclair", "Saint-Honoré", "Lys",
               "Vallée", "Horizon", "Garonne", "Opale", "Mistral"],
              [" Assurances", " Logistique", " Immobilier", " Voyages",
               " Santé", " Cosmétiques", " Conseil", " Distribution",
               " Informatique", " Optique", " Formation"],
              {"FR": [" SAS", " SARL", " SA", ""], "BE": [" SRL", " SA", ""],
               "MA": [" SARL", ""]})
COMPANY_PT = (["Grupo ", "", "", ""],
              ["Ipê", "Aurora", "Atlântico", "Paulista", "Cerrado",
               "Horizonte", "Litoral", "Mantiqueira", "Tropical", "Lusitana",
               "Douro", "Tejo", "Sabiá", "Capixaba"],
              [" Logística", " Seguros", " Saúde", " Imobiliária", " Viagens",
               " Alimentos", " Tecnologia", " Varejo", " Educação",
               " Contabilidade"],
              {"BR": [" Ltda.", " S.A.", " EIRELI", ""], "PT": [" Lda.", " S.A.", ""]})

# Plans: name, price per agent per month (USD), segment rules.
PLANS = {"Starter": 19, "Team": 49, "Business": 89, "Enterprise": 139}

DESKLY_AGENTS = ["Maria", "Tom", "Priya", "Daniel", "Lena", "Kofi", "Sofia",
                 "Marcus", "Aiko", "Ben", "Noor", "Jonas"]
INTEGRATIONS = ["Slack", "HubSpot", "Shopify", "Salesforce",
                "Microsoft Teams", "Zapier", "Stripe", "Google Sheets",
                "Intercom", "Pipedrive"]
BROWSERS = ["Chrome", "Chrome", "Chrome", "Firefox", "Safari", "Edge"]

DAY_NAMES = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "he": ["יום שני", "יום שלישי", "יום רביעי", "יום חמישי", "יום שישי", "שבת", "יום ראשון"],
    "ar": ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"],
    "th": ["วันจันทร์", "วันอังคาร", "วันพุธ", "วันพฤหัสบดี", "วันศุกร์", "วันเสาร์", "วันอาทิตย์"],
    "ru": ["понедельника", "вторника", "среды", "четверга", "пятницы", "субботы", "воскресенья"],
    "es": ["el lunes", "el martes", "el miércoles", "el jueves", "el viernes", "el sábado", "el domingo"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "pt": ["segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo"],
}
MONTH_NAMES = {
    "en": ["January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December"],
    "he": ["ינואר", "פברואר", "מרץ", "אפריל", "מאי", "יוני", "יולי", "אוגוסט",
           "ספטמבר", "אוקטובר", "נובמבר", "דצמבר"],
    "ar": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو",
           "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "th": ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
           "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"],
    "ru": ["январь", "февраль", "март", "апрель", "май", "июнь", "июль",
           "август", "сентябрь", "октябрь", "ноябрь", "декабрь"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
           "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli",
           "August", "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet",
           "août", "septembre", "octobre", "novembre", "décembre"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho",
           "agosto", "setembro", "outubro", "novembro", "dezembro"],
}
GREETINGS = {
    "en": ["Hi,", "Hi team,", "Hello,", "Hi Deskly support,", "Hey there,",
           "Good morning,", "Hi all,", "Dear Support Team,", "Hello Deskly team,",
           "Hi guys,", "Hey,", "Hi {agent},", "Good afternoon,"],
    "he": ["היי,", "שלום,", "שלום רב,", "היי צוות התמיכה,", "בוקר טוב,", "הי {agent},"],
    "ar": ["مرحبا،", "السلام عليكم،", "مرحباً فريق الدعم،", "صباح الخير،", "تحية طيبة،",
           "السلام عليكم ورحمة الله،"],
    "th": ["สวัสดีค่ะ", "สวัสดีครับ", "เรียนทีมซัพพอร์ต", "สวัสดีครับทีมงาน", "สวัสดีค่ะ ทีม Deskly"],
    "ru": ["Здравствуйте!", "Добрый день!", "Добрый день, коллеги.", "Привет!",
           "Здравствуйте, поддержка.", "Доброе утро!"],
    "es": ["Hola,", "Buenos días,", "Hola equipo de soporte,", "Estimados:",
           "Buenas tardes,", "Hola {agent},"],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,",
           "Hallo Deskly-Team,", "Moin,", "Hallo {agent},", "Servus,"],
    "fr": ["Bonjour,", "Bonjour l'équipe,", "Madame, Monsieur,", "Bonsoir,",
           "Hello,", "Bonjour {agent},"],
    "pt": ["Olá,", "Oi pessoal,", "Bom dia,", "Prezados,", "Boa tarde,", "Oi {agent},"],
}
SIGNOFFS = {
    "en": ["Thanks,\n{first}", "Thanks!\n{first}", "Regards,\n{first} {last}",
           "Best,\n{first} {last}\n{company}", "Cheers,\n{first}", "thx\n{first}",
           "--\n{first} {last} | Support Lead | {company}\n{phone}",
           "Sent from my iPhone", "Thank you!", "Kind regards,\n{first} {last}",
           "Thanks in advance", "{first}"],
    "he": ["תודה,\n{first}", "תודה רבה,\n{first} {last}",
           "בברכה,\n{first} {last}\n{company}", "תודה מראש", "נשלח מה-iPhone שלי",
           "{first} {last}\n{phone}"],
    "ar": ["شكراً،\n{first}", "مع الشكر،\n{first} {last}",
           "تحياتي،\n{first} {last}\n{company}", "شكرا لكم", "مع خالص التحية"],
    "th": ["ขอบคุณค่ะ\n{first}", "ขอบคุณครับ\n{first}", "ขอบคุณมากครับ",
           "ขอบคุณค่ะ\n{first} {last}\n{company}", "รบกวนด้วยนะคะ"],
    "ru": ["Спасибо,\n{first}", "С уважением,\n{first} {last}\n{company}",
           "Заранее спасибо!", "Спасибо.", "Отправлено с iPhone",
           "--\n{first} {last}\n{phone}"],
    "es": ["Gracias,\n{first}", "Saludos,\n{first} {last}",
           "Un saludo,\n{first} {last}\n{company}", "Muchas gracias de antemano.",
           "Enviado desde mi iPhone", "Quedo atento/a."],
    "de": ["Danke und Gruß\n{first}", "Viele Grüße\n{first} {last}",
           "Mit freundlichen Grüßen\n{first} {last}\n{company}", "Danke!",
           "VG {first}", "Von meinem iPhone gesendet", "Beste Grüße\n{first}"],
    "fr": ["Merci,\n{first}", "Cordialement,\n{first} {last}",
           "Bien cordialement,\n{first} {last}\n{company}", "Merci d'avance !",
           "Bonne journée,\n{first}", "Envoyé de mon iPhone"],
    "pt": ["Obrigado,\n{first}", "Obrigada,\n{first}", "Abraço,\n{first}",
           "Atenciosamente,\n{first} {last}\n{company}", "Valeu!",
           "Enviado do meu iPhone"],
}
SECOND_ISSUE = {
    "en": ["\n\nAlso, unrelated: ", "\n\nOne more thing - ", "\n\nPS: ",
           "\n\nWhile I have you: ", "\n\nAnd another issue: "],
    "he": ["\n\nעוד משהו: ", "\n\nנ.ב. ", "\n\nובנוסף: "],
    "ar": ["\n\nوأيضاً: ", "\n\nملاحظة أخرى: ", "\n\nبالإضافة إلى ذلك، "],
    "th": ["\n\nอีกเรื่องนึงค่ะ ", "\n\nป.ล. ", "\n\nอีกเรื่องครับ "],
    "ru": ["\n\nИ ещё: ", "\n\nP.S. ", "\n\nЗаодно: "],
    "es": ["\n\nOtra cosa: ", "\n\nPD: ", "\n\nAprovecho para comentar: "],
    "de": ["\n\nNoch etwas: ", "\n\nPS: ", "\n\nAußerdem: "],
    "fr": ["\n\nAutre chose : ", "\n\nPS : ", "\n\nEt aussi : "],
    "pt": ["\n\nOutra coisa: ", "\n\nPS: ", "\n\nAproveitando: "],
}
# Short openers and endings people add to an NPS comment, by score band.
NPS_LEADS = {
    "en": {"pro": ["Love it!", "Great tool.", "Very happy overall.", "Keep it up!", "Recommended."],
           "pas": ["Pretty good overall.", "Good, not great.", "Does the job.", "Mostly happy."],
           "det": ["Disappointed.", "Frustrating lately.", "Not happy.", "Honestly?"]},
    "de": {"pro": ["Top!", "Sehr zufrieden.", "Weiter so!"], "pas": ["Im Großen und Ganzen gut.", "Solide."],
           "det": ["Enttäuschend.", "Leider nicht zufrieden."]},
    "fr": {"pro": ["Top !", "Très satisfaits.", "Continuez comme ça !"], "pas": ["Globalement bien.", "Correct."],
           "det": ["Déçus.", "Pas satisfaits."]},
    "es": {"pro": ["¡Genial!", "Muy contentos.", "¡Sigan así!"], "pas": ["En general bien.", "Cumple."],
           "det": ["Decepcionados.", "No estamos conformes."]},
    "pt": {"pro": ["Top!", "Muito satisfeitos.", "Continuem assim!"], "pas": ["No geral, bom.", "Atende."],
           "det": ["Decepcionado.", "Não estamos satisfeitos."]},
    "ru": {"pro": ["Отлично!", "Очень довольны.", "Так держать!"], "pas": ["В целом неплохо.", "Нормально."],
           "det": ["Разочарованы.", "Недовольны."]},
    "he": {"pro": ["מעולה!", "מרוצים מאוד.", "תמשיכו ככה!"], "pas": ["בסך הכל טוב.", "סביר."],
           "det": ["מאכזב.", "לא מרוצים."]},
    "ar": {"pro": ["ممتاز!", "راضون جداً.", "استمروا!"], "pas": ["جيد بشكل عام.", "مقبول."],
           "det": ["مخيب للآمال.", "غير راضين."]},
    "th": {"pro": ["ดีมากค่ะ", "ประทับใจครับ", "เยี่ยมเลย"], "pas": ["โดยรวมก็โอเค", "พอใช้ได้"],
           "det": ["ผิดหวังค่ะ", "ไม่ค่อยพอใจ"]},
}
NPS_TAILS = {"pro": [" :)", " 👍", "!", " Thanks!", " 🙂"], "pas": [" :)", "", "..."],
             "det": [" :(", "...", "!!", " 😡"]}
# The chat tool names the conversation after the visitor, in Latin letters.
CHAT_SUBJECT = "Chat with {first} {last}"
AREA_TAGS = {
    "onboarding_setup": ["onboarding", "setup", "trial"],
    "billing_pricing": ["billing", "invoice", "pricing"],
    "performance_reliability": ["performance", "slowness", "outage"],
    "integrations_api": ["integrations", "api", "webhooks"],
    "reporting_analytics": ["reporting", "dashboards"],
    "notifications": ["notifications", "email_alerts"],
    "mobile_app": ["mobile", "ios", "android"],
    "usability_ui": ["ui", "ux"],
    "permissions_security": ["permissions", "sso", "security"],
    "workflow_automation": ["automation", "triggers", "sla"],
    "search": ["search", "views"],
    "data_import_export": ["import", "export", "migration"],
    "support_experience": ["support_feedback", "escalation"],
    "other": ["general", "account_admin"],
}
KIND_TAGS = {"bug": "bug", "question": "how_to", "feature_request": "feature_request",
             "complaint": "complaint", "praise": "kudos", "other": "misc"}
AREA_TOPIC = {  # the contact form's "Topic" drop-down
    "onboarding_setup": "Getting started", "billing_pricing": "Billing",
    "performance_reliability": "Technical issue", "integrations_api": "Integrations",
    "reporting_analytics": "Reports", "notifications": "Technical issue",
    "mobile_app": "Mobile apps", "usability_ui": "Other",
    "permissions_security": "Security", "workflow_automation": "Technical issue",
    "search": "Technical issue", "data_import_export": "Data import/export",
    "support_experience": "Feedback", "other": "Other",
}


# ---------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------
class Entry:
    __slots__ = ("lang", "source", "area", "kind", "story", "reason", "comp",
                 "subject", "text", "where")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k, ""))


def load_pools():
    """Read tools/samples_pool/*.txt into {(lang, source): [Entry]}."""
    pools = {}
    for name in sorted(os.listdir(POOL_DIR)):
        if not name.endswith(".txt"):
            continue
        lang = re.split(r"[_.]", name)[0]
        if lang not in LANGS:
            raise SystemExit("%s: file name must start with a language code" % name)
        path = os.path.join(POOL_DIR, name)
        header = None
        with open(path, encoding="utf-8") as f:
            for lineno, raw in enumerate(f, 1):
                line = raw.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                where = "%s:%d" % (name, lineno)
                if line.startswith("@"):
                    header = dict(kv.split("=", 1) for kv in line[1:].split())
                    if header.get("source") not in ("ticket", "nps", "churn", "lost_deal"):
                        raise SystemExit("%s: bad or missing source" % where)
                    if "area" in header and header["area"] not in AREAS:
                        raise SystemExit("%s: unknown area %s" % (where, header["area"]))
                    continue
                if header is None:
                    raise SystemExit("%s: entry before any @ header" % where)
                text = line.strip().replace("\\n", "\n")
                e = Entry(lang=lang, source=header["source"],
                          area=header.get("area", ""), kind=header.get("kind", ""),
                          story=header.get("story", ""), reason=header.get("reason", ""),
                          comp=header.get("comp", ""), where=where)
                if e.source == "ticket":
                    if " :: " not in text:
                        raise SystemExit("%s: ticket entry needs 'subject :: body'" % where)
                    e.subject, e.text = (s.strip() for s in text.split(" :: ", 1))
                else:
                    e.text = text
                pools.setdefault((lang, e.source), []).append(e)
    return pools


def select(pools, lang, source, **want):
    """Entries of (lang, source) whose attributes equal want (story '' = background)."""
    want.setdefault("story", "")
    out = []
    for e in pools.get((lang, source), []):
        if all(getattr(e, k) == v for k, v in want.items()):
            out.append(e)
    return out


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def wchoice(rng, weights):
    """Pick a key of a {key: weight} dict (insertion order, so deterministic)."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def ascii_slug(s):
    s = s.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", s.lower())


def week_of(d):
    return (d - START).days // 7 + 1


def day_weight(d, kind="ticket"):
    wd = d.weekday()
    if kind == "nps":
        return [1.0, 1.3, 1.3, 1.2, 0.9, 0.25, 0.2][wd]
    return [1.25, 1.2, 1.15, 1.1, 0.95, 0.25, 0.2][wd]


def days_of_week(week):
    first = START + dt.timedelta(days=7 * (week - 1))
    return [first + dt.timedelta(days=i) for i in range(7)]


def split_count(rng, total, weights):
    """Split total into len(weights) integers proportional to weights."""
    s = float(sum(weights))
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out


class Account:
    __slots__ = ("name", "lang", "country", "segment", "plan", "seats", "mrr",
                 "domain", "people", "churned_on", "used")


class Person:
    __slots__ = ("first", "last", "first_native", "last_native", "email", "female")


def make_company_name(rng, lang, country, used):
    for _ in range(1000):
        slug_hint = None
        if lang == "en":
            a = rng.choice(COMPANY_EN_A)
            b = rng.choice(COMPANY_EN_B)
            core = a + b if b else a
            name = core + " " + rng.choice(COMPANY_EN_C)
            suf = COMPANY_EN_SUFFIX.get(country, COMPANY_EN_SUFFIX["default"])
            if country in ("AU",) and rng.random() < 0.5:
                name += " Pty Ltd"
            elif country in ("SG",) and rng.random() < 0.5:
                name += " Pte Ltd"
            else:
                name += rng.choice(suf if country in ("US", "GB") else ["", "", " Ltd", " Group"])
            slug_hint = core + rng.choice(["", "", "hq", "co"])
        elif lang in COMPANY_NATIVE:
            pre, ind, latin_suf, native_suf, native_share = COMPANY_NATIVE[lang]
            p = rng.choice(pre)
            i = rng.choice(ind)
            if rng.random() < native_share:
                if lang == "th":
                    name = "บริษัท " + p[1] + i[1] + native_suf
                elif lang == "ar":
                    name = "شركة " + p[1] + " " + i[1]
                elif lang == "ru":
                    name = "ООО «" + p[1] + i[1] + "»"
                else:
                    name = p[1] + " " + i[1] + native_suf
            else:
                name = p[0] + " " + i[0] + rng.choice(latin_suf)
            slug_hint = p[0] + i[0]
        else:
            if lang == "es":
                pre, mid, suf = COMPANY_ES
                name = rng.choice(pre) + rng.choice(mid)
                name += rng.choice(suf[country])
            elif lang == "de":
                a, b, suf = COMPANY_DE
                name = rng.choice(a) + rng.choice(b) + rng.choice(suf[country])
            elif lang == "fr":
                pre, mid, ind, suf = COMPANY_FR
                name = rng.choice(pre) + rng.choice(mid) + rng.choice(ind) + rng.choice(suf[country])
            else:
                pre, mid, ind, suf = COMPANY_PT
                name = rng.choice(pre) + rng.choice(mid) + rng.choice(ind) + rng.choice(suf[country])
            name = name.strip()
            words = [w for w in re.split(r"[\s\-]+", name)
                     if w not in ("Grupo", "Groupe", "GmbH", "AG", "KG", "S.A.", "S.L.",
                                  "de", "C.V.", "del", "Co.", "&", "e.K.", "SAS", "SARL",
                                  "SA", "SRL", "Ltda.", "Lda.", "EIRELI", "SpA",
                                  "S.R.L.", "S.A.S.")]
            slug_hint = "".join(words[:2])
        if name not in used:
            used.add(name)
            domain = ascii_slug(slug_hint) or ascii_slug(name)
            return name, domain
    raise SystemExit("ran out of company names for %s" % lang)


def make_person(rng, lang, domain, tld):
    firsts, lasts = PEOPLE[lang]
    f = rng.choice(firsts)
    l = rng.choice(lasts)
    p = Person()
    p.first, p.first_native, p.female = f[0], f[1], f[2]
    p.last, p.last_native = l[0], l[1]
    if lang == "ru" and p.female:
        if p.last.endswith("ov") or p.last.endswith("ev") or p.last.endswith("in"):
            p.last += "a"
            p.last_native += "а"
    fs, ls = ascii_slug(p.first), ascii_slug(p.last)
    r = rng.random()
    if r < 0.45:
        local = fs + "." + ls
    elif r < 0.65:
        local = fs[0] + ls
    elif r < 0.85:
        local = fs
    elif r < 0.93:
        local = fs + "_" + ls
    else:
        local = rng.choice(["support", "help", "ops", "admin", "it", "info"])
    if rng.random() < 0.02:
        p.email = "%s%d@%s" % (fs + ls, rng.randint(1, 99),
                               rng.choice(["gmail.com", "outlook.com", "yahoo.com"]))
    else:
        p.email = "%s@%s%s" % (local, domain, tld)
    return p


def make_accounts(rng):
    accounts = []
    used_names = set()
    used_domains = set()
    for lang in LANGS:
        countries = {c: v[1] for c, v in COUNTRIES.items() if v[0] == lang}
        for _ in range(ACCOUNTS_PER_LANG[lang]):
            a = Account()
            a.lang = lang
            a.country = wchoice(rng, countries)
            a.name, dom = make_company_name(rng, lang, a.country, used_names)
            while dom in used_domains:
                dom += rng.choice("abcdefghk")
            used_domains.add(dom)
            a.domain = dom
            r = rng.random()
            if r < 0.62:
                a.segment = "SMB"
                a.plan = rng.choices(["Starter", "Team", "Business"], [40, 50, 10])[0]
                a.seats = rng.randint(2, 24)
            elif r < 0.91:
                a.segment = "Mid-Market"
                a.plan = rng.choices(["Team", "Business", "Enterprise"], [30, 60, 10])[0]
                a.seats = rng.randint(25, 110)
            else:
                a.segment = "Enterprise"
                a.plan = rng.choices(["Business", "Enterprise"], [25, 75])[0]
                a.seats = rng.randint(110, 420)
            price = PLANS[a.plan]
            discount = 1.0
            if a.seats >= 50:
                discount = rng.choice([0.9, 0.85, 0.8, 0.9])
            a.mrr = int(round(a.seats * price * discount))
            tld = COUNTRIES[a.country][3]
            a.people = [make_person(rng, lang, dom, tld)
                        for _ in range(min(9, 1 + a.seats // 12 + rng.randint(0, 2)))]
            a.churned_on = None
            a.used = False
            accounts.append(a)
    return accounts


PHONE_FMT = {
    "US": "+1 {a3} 555 {d4}", "CA": "+1 {a3} 555 {d4}", "GB": "+44 20 {d4} {d4b}",
    "AU": "+61 2 {d4} {d4b}", "IE": "+353 1 {d3} {d4}", "IN": "+91 98{d3} {d5}",
    "NZ": "+64 9 {d3} {d4}", "SG": "+65 6{d3} {d4}", "ZA": "+27 21 {d3} {d4}",
    "NL": "+31 20 {d3} {d4}", "SE": "+46 8 {d3} {d4}", "IL": "054-{d3}-{d4}",
    "SA": "+966 5{d2} {d3} {d4}", "AE": "+971 50 {d3} {d4}", "EG": "+20 10 {d4} {d4b}",
    "JO": "+962 7{d2} {d3} {d3b}", "TH": "08{d1}-{d3}-{d4}", "RU": "+7 9{d2} {d3}-{d2b}-{d2c}",
    "KZ": "+7 70{d1} {d3} {d4}", "ES": "+34 6{d2} {d3} {d3b}", "MX": "+52 55 {d4} {d4b}",
    "AR": "+54 11 {d4}-{d4b}", "CO": "+57 31{d1} {d3} {d4}", "CL": "+56 9 {d4} {d4b}",
    "DE": "+49 30 {d4}{d3}", "AT": "+43 1 {d3} {d4}", "CH": "+41 44 {d3} {d2} {d2b}",
    "FR": "06 {d2} {d2b} {d2c} {d2d}", "BE": "+32 2 {d3} {d2} {d2b}",
    "MA": "+212 6{d2} {d2b} {d2c} {d2d}", "BR": "(11) 9{d4}-{d4b}", "PT": "+351 91{d1} {d3} {d3b}",
}


def make_phone(rng, country):
    fmt = PHONE_FMT[country]

    def digits(n):
        return "".join(str(rng.randint(0, 9)) for _ in range(n))
    vals = {"a3": str(rng.randint(201, 989)), "d1": digits(1), "d2": digits(2),
            "d2b": digits(2), "d2c": digits(2), "d2d": digits(2), "d3": digits(3),
            "d3b": digits(3), "d4": digits(4), "d4b": digits(4), "d5": digits(5)}
    return fmt.format(**vals)


CURRENCY_FMT = {"USD": ("$", "pre"), "GBP": ("£", "pre"), "CAD": ("CA$", "pre"),
                "AUD": ("A$", "pre"), "EUR": ("€", "post"), "INR": ("₹", "pre"),
                "NZD": ("NZ$", "pre"), "SGD": ("S$", "pre"), "ZAR": ("R", "pre"),
                "ILS": ("₪", "post"), "SAR": ("SAR", "post"), "AED": ("AED", "post"),
                "EGP": ("EGP", "post"), "JOD": ("JOD", "post"), "THB": ("฿", "pre"),
                "RUB": ("₽", "post"), "KZT": ("₸", "post"), "MXN": ("MX$", "pre"),
                "ARS": ("ARS", "post"), "COP": ("COP", "post"), "CLP": ("CLP", "post"),
                "CHF": ("CHF", "post"), "MAD": ("MAD", "post"), "BRL": ("R$", "pre")}


def money(rng, account, lo=40, hi=4000):
    """An invoice-like amount; Deskly bills in USD, some customers quote it locally."""
    amount = rng.randint(lo, hi)
    cents = rng.choice([0, 0, 0, 50, 99, 20])
    lang = account.lang
    cur = "USD" if rng.random() < 0.6 else COUNTRIES[account.country][4]
    sym, pos = CURRENCY_FMT[cur]
    if lang == "en":
        num = "{:,}".format(amount) + (".%02d" % cents if cents else "")
    elif lang in ("de", "es", "pt", "ru"):
        num = "{:,}".format(amount).replace(",", ".") + ("," + "%02d" % cents if cents else "")
    elif lang == "fr":
        num = "{:,}".format(amount).replace(",", "\u202f") + ("," + "%02d" % cents if cents else "")
    else:
        num = "{:,}".format(amount) + (".%02d" % cents if cents else "")
    if pos == "pre":
        return sym + num
    return num + " " + sym


class Ctx:
    """What placeholders can refer to: who writes, when, for which account."""

    def __init__(self, rng, account, person, when, lang):
        self.rng, self.account, self.person, self.when, self.lang = rng, account, person, when, lang


def fill(text, ctx):
    rng = ctx.rng
    a, p, lang = ctx.account, ctx.person, ctx.lang
    native = lang == a.lang

    def sub(m):
        k = m.group(1)
        if k == "first":
            return p.first_native if native else p.first
        if k == "last":
            return p.last_native if native else p.last
        if k == "she":  # a (female) colleague the writer talks about
            females = [f for f in PEOPLE[a.lang][0] if f[2]]
            f = rng.choice(females)
            return f[1] if native else f[0]
        if k == "company":
            return a.name
        if k == "email":
            other = rng.choice(a.people)
            return other.email
        if k == "phone":
            return make_phone(rng, a.country)
        if k == "agent":
            return rng.choice(DESKLY_AGENTS)
        if k == "n":
            return str(rng.randint(2, 9))
        if k == "N":
            return str(rng.randint(10, 60))
        if k == "secs":
            return str(rng.choice([8, 10, 12, 15, 20, 25, 30, 40, 45, 60]))
        if k == "mins":
            return str(rng.choice([5, 10, 15, 20, 30, 40, 45]))
        if k == "hrs":
            return str(rng.randint(2, 12))
        if k == "days":
            return str(rng.randint(2, 6))
        if k == "pct":
            return str(rng.choice([10, 15, 20, 25, 30, 35, 40]))
        if k == "seats":
            return str(max(2, a.seats + rng.randint(-3, 6)))
        if k == "ticket":
            return "#" + str(rng.randint(38000, 44800))
        if k == "amount":
            return money(rng, a)
        if k == "inv":
            return "INV-2026-%05d" % rng.randint(10000, 99999)
        if k == "ver":
            w = week_of(ctx.when) if START <= ctx.when <= END else 1
            return "5.%d.%d" % (1 if w < INCIDENT_WEEK else 2, rng.randint(0, 9))
        if k == "ios":
            return rng.choice(["17.6", "18.0.1", "18.1", "18.1.1", "17.5.1"])
        if k == "android":
            return rng.choice(["13", "14", "15", "14"])
        if k == "browser":
            return rng.choice(BROWSERS)
        if k == "integration":
            return rng.choice(INTEGRATIONS)
        if k == "competitor":
            return wchoice(rng, COMPETITORS)
        if k == "rows":
            return "{:,}".format(rng.choice([800, 1200, 2500, 4000, 12000, 25000, 48000])).replace(",", "," if lang == "en" else ".")
        if k == "count":
            return str(rng.choice([120, 340, 1500, 2300, 8000, 15000]))
        if k == "plan":
            return a.plan
        if k == "day":
            back = ctx.when - dt.timedelta(days=rng.randint(1, 4))
            return DAY_NAMES[lang][back.weekday()]
        if k == "month":
            prev = (ctx.when.month - 2) % 12   # last month, 0-based
            return MONTH_NAMES[lang][prev]
        if k == "date":
            back = ctx.when - dt.timedelta(days=rng.randint(1, 12))
            if lang == "en":
                if a.country == "US":
                    return back.strftime("%b ") + str(back.day) if rng.random() < 0.6 else "%d/%d" % (back.month, back.day)
                return str(back.day) + back.strftime(" %b")
            if lang in ("de", "ru"):
                return "%02d.%02d." % (back.day, back.month)
            return "%d/%d" % (back.day, back.month)
        if k == "time":
            return "%d:%02d" % (rng.randint(7, 18), rng.choice([0, 5, 12, 15, 20, 30, 40, 45, 52]))
        raise SystemExit("unknown placeholder {%s}" % k)
    return re.sub(r"\{(\w+)\}", sub, text)


LATIN_CYR = re.compile(r"[A-Za-zÀ-ÿА-Яа-яЁё]{5,}")


def add_typos(rng, text, n):
    """n small keyboard slips in words of five letters or more."""
    for _ in range(n):
        words = [m for m in LATIN_CYR.finditer(text)]
        if not words:
            return text
        m = rng.choice(words)
        w = m.group(0)
        i = rng.randint(1, len(w) - 2)
        op = rng.random()
        if op < 0.4:
            w2 = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        elif op < 0.75:
            w2 = w[:i] + w[i + 1:]
        else:
            w2 = w[:i] + w[i] + w[i:]
        text = text[:m.start()] + w2 + text[m.end():]
    return text


def casualize(rng, text):
    """The sloppier habits of people typing fast in English."""
    if rng.random() < 0.3:
        text = re.sub(r"\b(do|does|did|is|are|was|can|could|would|should|have|has|were)n't\b",
                      r"\1nt", text)
        text = text.replace("can't", "cant").replace("won't", "wont")
    if rng.random() < 0.2:
        text = re.sub(r"\bI\b", "i", text)
        text = text.replace("i'm", "im").replace("i've", "ive")
    if rng.random() < 0.25 and text.endswith("."):
        text = text[:-1]
    if rng.random() < 0.12:
        text = text[0].lower() + text[1:]
    return text


def perturb(rng, text, lang, p_typo):
    if rng.random() < p_typo and lang in ("en", "ru", "es", "de", "fr", "pt"):
        text = add_typos(rng, text, 1 if rng.random() < 0.75 else 2)
    if lang == "en" and rng.random() < 0.35:
        text = casualize(rng, text)
    return text


def local_time(rng, d, account, kind="ticket"):
    """A UTC datetime for something written on local date d in business hours."""
    if kind == "nps":
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 7, 8,
                                               8, 8, 7, 6, 5, 4, 4, 3, 2, 1])[0]
    else:
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 5, 10, 13, 13, 12,
                                               9, 11, 12, 11, 9, 6, 4, 3, 2, 2, 1, 1])[0]
    local = dt.datetime(d.year, d.month, d.day, hour, rng.randint(0, 59), rng.randint(0, 59))
    off = COUNTRIES[account.country][2]
    utc = local - dt.timedelta(hours=off)
    # keep the export inside its twelve weeks (it was cut by UTC date)
    if utc.date() < START:
        utc = dt.datetime(START.year, START.month, START.day, rng.randint(0, 3), rng.randint(0, 59),
                          rng.randint(0, 59))
    elif utc.date() > END:
        utc = dt.datetime(END.year, END.month, END.day, rng.randint(20, 23), rng.randint(0, 59),
                          rng.randint(0, 59))
    return utc


def pick_account(rng, accounts_by_lang, lang, when, pred=None, writes_en=True, uniform=False):
    """An account active on `when` whose people write in `lang`."""
    cands = []
    if lang == "en" and writes_en:
        pool = accounts_by_lang["en"] if rng.random() < 0.86 else \
            [a for a in accounts_by_lang["*"] if a.lang != "en" and rng.random() < WRITES_ENGLISH[a.lang] * 3]
        if not pool:
            pool = accounts_by_lang["en"]
    else:
        pool = accounts_by_lang[lang]
    for a in pool:
        if a.churned_on is not None and when > a.churned_on:
            continue
        if pred is not None and not pred(a):
            continue
        cands.append(a)
    weights = [1.0 if uniform else a.seats ** 0.7 for a in cands]
    return rng.choices(cands, weights=weights)[0]


class LangBag:
    """Languages for n items in the exact LANG_MIX proportions, in random order."""

    def __init__(self, rng, n):
        counts = split_count(rng, n, [LANG_MIX[l] for l in LANGS])
        self.bag = [l for l, c in zip(LANGS, counts) for _ in range(c)]
        rng.shuffle(self.bag)
        self.rng = rng

    def __call__(self):
        if not self.bag:
            return wchoice(self.rng, LANG_MIX)
        return self.bag.pop()


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------
def gen_churn(rng, pools, accounts, by_lang, truth):
    rows = []
    pick_lang = LangBag(rng, sum(CHURN_PER_WEEK))
    other = CHURN_OTHER_REASONS[:]
    rng.shuffle(other)
    used = set()
    for w in range(1, WEEKS + 1):
        plan = (["helphub"] * HELPHUB_CHURN[w - 1] + ["perf"] * PERF_CHURN[w - 1] +
                ["jira2way"] * JIRA_CHURN[w - 1])
        while len(plan) < CHURN_PER_WEEK[w - 1]:
            plan.append(other.pop())
        days = days_of_week(w)
        for item in plan:
            d = rng.choices(days, weights=[day_weight(x) for x in days])[0]
            lang = pick_lang()
            if item == "helphub":
                reason, story = "competitor", "helphub"
            elif item == "perf":
                reason, story = "", "perf"
            elif item == "jira2way":
                reason, story = "missing_capability", "jira2way"
            else:
                reason, story = item, ""
            seg = wchoice(rng, CHURN_SEGMENTS[story or reason])
            # one perf churn is a large enterprise: the expensive part of the story
            if item == "perf" and w == 11 and not any(t["story"] == "perf" and t["segment"] == "Enterprise"
                                                      for t in truth["churn"]):
                seg = "Enterprise"
            acc = pick_account(rng, by_lang, lang, dt.datetime(d.year, d.month, d.day),
                               pred=lambda a: a.segment == seg and a.name not in used,
                               uniform=True)
            used.add(acc.name)
            acc.churned_on = dt.datetime(d.year, d.month, d.day, 23, 59)
            acc.used = True
            want = {"story": story}
            if reason:
                want["reason"] = reason
            cands = select(pools, lang, "churn", **want)
            if not cands:
                raise SystemExit("no churn pool for %s %s" % (lang, want))
            e = rng.choice(cands)
            person = rng.choice(acc.people)
            ctx = Ctx(rng, acc, person, d, lang)
            text = perturb(rng, fill(e.text, ctx), lang, 0.12)
            rows.append({"closed_at": d, "account": acc.name, "mrr": acc.mrr, "reason": text})
            truth["churn"].append({"date": d, "week": w, "reason": e.reason, "story": story, "lang": lang,
                                   "mrr": acc.mrr, "segment": acc.segment, "account": acc.name,
                                   "comp": e.comp})
    rows.sort(key=lambda r: (r["closed_at"], r["account"]))
    out = []
    for i, r in enumerate(rows):
        out.append(["CHN-%04d" % (1873 + i), r["closed_at"].isoformat(), r["account"],
                    str(r["mrr"]), r["reason"]])
    return out


def gen_lost(rng, pools, accounts, by_lang, truth, used_names):
    rows = []
    pick_lang = LangBag(rng, sum(LOST_PER_WEEK))
    other = LOST_OTHER_REASONS[:]
    rng.shuffle(other)
    for w in range(1, WEEKS + 1):
        plan = ["helphub"] * HELPHUB_LOST[w - 1] + ["jira2way"] * JIRA_LOST[w - 1]
        while len(plan) < LOST_PER_WEEK[w - 1]:
            plan.append(other.pop())
        days = days_of_week(w)
        for item in plan:
            # deals close at the end of the month more often
            weights = [day_weight(x) * (1.8 if x.day >= 26 or x.day <= 1 else 1.0) for x in days]
            d = rng.choices(days, weights=weights)[0]
            lang = pick_lang()
            expansion = rng.random() < 0.18
            if expansion:
                acc = pick_account(rng, by_lang, lang, dt.datetime(d.year, d.month, d.day))
                acc.used = True
                company, country, seg = acc.name, acc.country, acc.segment
            else:
                countries = {c: v[1] for c, v in COUNTRIES.items() if v[0] == lang}
                country = wchoice(rng, countries)
                company, _ = make_company_name(rng, lang, country, used_names)
                seg = rng.choices(["SMB", "Mid-Market", "Enterprise"], [55, 35, 10])[0]
                acc = None
            if item == "helphub":
                reason, story, comp = "competitor", "helphub", "HelpHub"
                seg = rng.choices(["SMB", "Mid-Market", "Enterprise"], [50, 45, 5])[0] if not expansion else seg
            elif item == "jira2way":
                reason, story, comp = "missing_capability", "jira2way", ""
            else:
                reason, story, comp = item, "", ""
            want = {"story": story, "reason": reason}
            cands = select(pools, lang, "lost_deal", **want)
            if not cands:
                raise SystemExit("no lost_deal pool for %s %s" % (lang, want))
            e = rng.choice(cands)
            if reason == "competitor" and story == "":
                comp = wchoice(rng, COMPETITORS)
            elif e.comp == "any":
                comp = wchoice(rng, COMPETITORS)
            elif e.comp == "statusquo":
                comp = rng.choice(["Status quo", "Status quo", "None", ""])
            elif e.comp == "inhouse":
                comp = "In-house build"
            elif e.comp == "helphub":
                comp = "HelpHub"
            elif e.comp and e.comp != "none":
                comp = e.comp
            if story == "" and reason in ("price", "missing_capability") and not comp and rng.random() < 0.45:
                comp = wchoice(rng, COMPETITORS)
            if seg == "SMB":
                size = rng.randint(12, 60) * 200
            elif seg == "Mid-Market":
                size = rng.randint(30, 150) * 400
            else:
                size = rng.randint(60, 250) * 1000
            stage = rng.choices(["Discovery", "Demo", "Trial", "Proposal", "Negotiation"],
                                [15, 25, 25, 20, 15])[0]
            if acc is None:
                acc = Account()
                acc.name, acc.lang, acc.country, acc.seats, acc.plan = company, lang, country, 20, "Team"
                acc.people = []
            rep = Person()
            firsts, lasts = PEOPLE["en"]
            f, l = rng.choice(firsts), rng.choice(lasts)
            rep.first, rep.first_native, rep.last, rep.last_native = f[0], f[0], l[0], l[0]
            rep.female, rep.email = f[2], ""
            ctx = Ctx(rng, acc, rep, d, lang)
            # The rep writes about a competitor the CRM field names.
            text = e.text.replace("{competitor}", comp or wchoice(rng, COMPETITORS))
            text = perturb(rng, fill(text, ctx), lang, 0.15)
            rows.append((d, company, size, stage, comp, text))
            truth["lost"].append({"date": d, "week": w, "reason": reason, "story": story, "lang": lang,
                                  "size": size, "comp": comp, "expansion": expansion})
    rows.sort(key=lambda r: (r[0], r[1]))
    out = []
    for d, company, size, stage, comp, text in rows:
        oid = "006" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789")
                              for _ in range(15))
        out.append([oid, d.isoformat(), company, str(size), stage, comp, text])
    return out


def nps_comment(rng, pools, lang, area, kind, story=""):
    cands = select(pools, lang, "nps", area=area, kind=kind, story=story) if area else \
        select(pools, lang, "nps", kind=kind, story=story)
    if not cands:
        cands = select(pools, lang, "nps", kind=kind, story=story)
    if not cands:
        raise SystemExit("no nps pool for %s %s %s %s" % (lang, area, kind, story))
    return rng.choice(cands)


def gen_nps(rng, pools, accounts, by_lang, truth):
    weekly = split_count(rng, N_NPS, [64, 66, 68, 67, 66, 67, 68, 66, 67, 68, 66, 67])
    pick_lang = LangBag(rng, N_NPS)
    rows = []
    for w in range(1, WEEKS + 1):
        plan = (["incident"] * PERF_INCIDENT_NPS[w - 1] + ["jira2way"] * JIRA_NPS[w - 1] +
                ["helphub"] * HELPHUB_NPS[w - 1])
        while len(plan) < weekly[w - 1]:
            plan.append("")
        days = days_of_week(w)
        for story in plan:
            d = rng.choices(days, weights=[day_weight(x, "nps") for x in days])[0]
            lang = pick_lang()
            when = dt.datetime(d.year, d.month, d.day)
            acc = pick_account(rng, by_lang, lang, when)
            acc.used = True
            if story == "incident":
                score = rng.choices(range(11), weights=NPS_INCIDENT_SCORES)[0]
                e = nps_comment(rng, pools, lang, "performance_reliability", "complaint", "incident")
            elif story == "jira2way":
                score = rng.choices(range(11), weights=[0, 0, 1, 1, 2, 4, 6, 12, 12, 5, 2])[0]
                e = nps_comment(rng, pools, lang, "integrations_api", "feature_request", "jira2way")
            elif story == "helphub":
                score = rng.choices(range(11), weights=[2, 1, 2, 3, 5, 6, 8, 6, 3, 0, 0])[0]
                e = nps_comment(rng, pools, lang, "", "complaint", "helphub")
            else:
                score = rng.choices(range(11), weights=NPS_BASE_SCORES)[0]
                if score >= 9:
                    kind = "praise" if rng.random() < 0.8 else "feature_request"
                elif score >= 7:
                    kind = rng.choices(["feature_request", "complaint", "praise"], [45, 25, 30])[0]
                else:
                    kind = "complaint" if rng.random() < 0.8 else "feature_request"
                area = wchoice(rng, NPS_AREA_BY_KIND[kind])
                e = nps_comment(rng, pools, lang, area, kind)
            person = rng.choice(acc.people)
            ctx = Ctx(rng, acc, person, d, lang)
            text = fill(e.text, ctx)
            # passives and promoters often write praise and a wish together
            if story == "" and e.kind == "praise" and score in (8, 9, 10) and rng.random() < 0.15:
                extra = nps_comment(rng, pools, lang, "", "feature_request")
                text = text.rstrip() + ("\n" if rng.random() < 0.3 else " ") + fill(extra.text, ctx)
            elif story == "" and e.kind == "complaint" and score <= 4 and rng.random() < 0.1:
                extra = nps_comment(rng, pools, lang, "", "complaint")
                if extra.area != e.area:
                    text = text.rstrip() + " " + fill(extra.text, ctx)
            band = "pro" if score >= 9 else "pas" if score >= 7 else "det"
            if rng.random() < 0.18:
                text = rng.choice(NPS_LEADS[lang][band]) + " " + text
            if rng.random() < 0.08:
                text = text.rstrip(".") + rng.choice(NPS_TAILS[band])
            text = perturb(rng, text, lang, 0.07)
            ts = local_time(rng, d, acc, "nps")
            rows.append([ts, score, text, acc.name, acc.plan])
            truth["nps"].append({"date": ts.date(), "week": w, "score": score, "area": e.area, "kind": e.kind,
                                 "story": story, "lang": lang})
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], i))
    out = []
    for i in order:
        ts, score, text, acc, plan = rows[i]
        rid = "R_" + "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
                             for _ in range(15))
        out.append([rid, ts.strftime("%Y-%m-%d %H:%M:%S"), str(score), text, acc, plan])
    return out


def ticket_body(rng, pools, e, ctx, lang, channel, area):
    body = fill(e.text, ctx)
    subject = fill(e.subject, ctx)
    # two issues in one ticket
    if rng.random() < (0.06 if lang == "en" else 0.03):
        others = [x for x in pools[(lang, "ticket")]
                  if x.area != area and not x.story and x.kind in ("bug", "question", "complaint")]
        if others:
            x = rng.choice(others)
            second = fill(x.text, ctx).split("\n")[0]
            if lang == "en" and second[:1].isupper() and not second.startswith("I "):
                second = second[0].lower() + second[1:]
            body = body + rng.choice(SECOND_ISSUE[lang]) + second
    body = perturb(rng, body, lang, 0.14)
    if rng.random() < 0.05:
        subject = subject.lower()
    elif rng.random() < 0.01:
        subject = subject.upper() + rng.choice(["", "!!", "!!!"])
    p = ctx.person
    first = p.first_native if lang == ctx.account.lang else p.first
    last = p.last_native if lang == ctx.account.lang else p.last
    if channel == "chat":
        sentences = [s for s in re.split(r"(?<=[.!?。])\s+|\n+", body) if s.strip()]
        t = dt.datetime(2026, 1, 1, rng.randint(7, 18), rng.randint(0, 59), rng.randint(0, 59))
        lines = []
        for s in sentences[:6]:
            lines.append("(%s) %s: %s" % (t.strftime("%H:%M:%S"), p.first, s.strip()))
            t += dt.timedelta(seconds=rng.randint(8, 90))
        return CHAT_SUBJECT.format(first=p.first, last=p.last), "\n".join(lines)
    if channel == "voicemail":
        desc = "Voicemail from %s (%ds)\nTranscription:\n%s" % (
            make_phone(rng, ctx.account.country), rng.randint(20, 140), body.replace("\n", " "))
        return "Voicemail from %s %s" % (p.first, p.last), desc
    if channel == "form":
        desc = "Name: %s %s\nEmail: %s\nCompany: %s\nTopic: %s\nMessage:\n%s" % (
            first, last, p.email, ctx.account.name, AREA_TOPIC[area], body)
        return "[Contact form] " + subject, desc
    parts = []
    if channel == "email":
        if rng.random() < 0.7:
            parts.append(fill(rng.choice(GREETINGS[lang]), ctx))
        parts.append(body)
        if rng.random() < 0.6:
            parts.append(fill(rng.choice(SIGNOFFS[lang]), ctx))
        desc = "\n\n".join(parts)
        if rng.random() < 0.03:
            when = ctx.when - dt.timedelta(days=rng.randint(1, 5))
            desc += ("\n\nOn %s at %d:%02d AM Deskly Support <support@deskly.io> wrote:\n"
                     "> Hi %s, thanks for reaching out! Could you send us a screenshot or a HAR file "
                     "so we can take a closer look?\n> \n> Best,\n> %s\n> Deskly Support") % (
                when.strftime("%a, %b %d, %Y").replace(" 0", " "), rng.randint(8, 11),
                rng.randint(0, 59), p.first, rng.choice(DESKLY_AGENTS))
        if rng.random() < 0.012:
            desc = desc.replace("\n\n", "<br><br>", 1).replace(" ", "&nbsp;", 1)
        if rng.random() < 0.08:
            subject = rng.choice(["Re: ", "RE: ", "Fwd: ", "FW: "]) + subject
    elif channel == "web":
        if rng.random() < 0.3:
            parts.append(fill(rng.choice(GREETINGS[lang]), ctx))
        parts.append(body)
        if rng.random() < 0.25:
            parts.append(fill(rng.choice(SIGNOFFS[lang]), ctx))
        desc = "\n\n".join(parts)
        if rng.random() < 0.04:
            subject = ""
    else:  # mobile
        desc = body
        if rng.random() < 0.5:
            desc += "\n\n" + rng.choice(["Sent from Deskly for iOS", "Sent from Deskly for Android"])
    if rng.random() < 0.01:
        desc += "   "
    return subject, desc


def gen_tickets(rng, pools, accounts, by_lang, truth):
    bg_total = N_TICKETS - sum(PERF_BASE_TICKETS) - sum(PERF_INCIDENT_TICKETS) \
        - sum(JIRA_TICKETS) - sum(HELPHUB_TICKETS)
    bg_weekly = split_count(rng, bg_total, [100, 93, 101, 102, 100, 101, 99, 102, 100, 99, 101, 100])
    raw = []
    pick_lang = LangBag(rng, N_TICKETS)
    for w in range(1, WEEKS + 1):
        plan = ([("performance_reliability", "")] * PERF_BASE_TICKETS[w - 1] +
                [("performance_reliability", "incident")] * PERF_INCIDENT_TICKETS[w - 1] +
                [("integrations_api", "jira2way")] * JIRA_TICKETS[w - 1] +
                [("workflow_automation", "helphub")] * HELPHUB_TICKETS[w - 1])
        for _ in range(bg_weekly[w - 1]):
            plan.append((wchoice(rng, TICKET_AREA_SHARE), ""))
        days = days_of_week(w)
        for area, story in plan:
            weights = [day_weight(x) * (3.0 if story == "incident" and x in OUTAGE_DAYS else 1.0)
                       for x in days]
            d = rng.choices(days, weights=weights)[0]
            lang = pick_lang()
            when = dt.datetime(d.year, d.month, d.day, 12)
            acc = pick_account(rng, by_lang, lang, when)
            acc.used = True
            if story:
                cands = select(pools, lang, "ticket", story=story)
            else:
                kind = wchoice(rng, TICKET_KIND_SHARE)
                cands = select(pools, lang, "ticket", area=area, kind=kind)
                if not cands:
                    cands = select(pools, lang, "ticket", area=area)
            if not cands:
                raise SystemExit("no ticket pool for %s %s %s" % (lang, area, story))
            e = rng.choice(cands)
            person = rng.choice(acc.people)
            channel = rng.choices(["email", "web", "chat", "mobile", "voicemail", "form"],
                                  [40, 31, 15, 7 if area != "mobile_app" else 30, 2, 5])[0]
            ctx = Ctx(rng, acc, person, d, lang)
            subject, desc = ticket_body(rng, pools, e, ctx, lang, channel, e.area)
            ts = local_time(rng, d, acc)
            if acc.churned_on is not None and ts > acc.churned_on:
                ts = acc.churned_on - dt.timedelta(hours=rng.randint(20, 200))
                if ts.date() < START:
                    ts = dt.datetime(START.year, START.month, START.day, 9, rng.randint(0, 59))
            prio = ticket_priority(rng, e.kind, story)
            raw.append({"ts": ts, "subject": subject, "desc": desc, "email": person.email,
                        "account": acc, "prio": prio, "channel": channel,
                        "area": e.area, "kind": e.kind, "story": story, "lang": lang})
            # the same problem sent twice, by mail and through the web form
            if rng.random() < 0.008:
                dup = dict(raw[-1])
                dup["ts"] = ts + dt.timedelta(minutes=rng.randint(2, 40))
                dup["channel"] = "web" if channel == "email" else "email"
                dup["dup"] = True
                raw.append(dup)
    order = sorted(range(len(raw)), key=lambda i: (raw[i]["ts"], i))
    now = dt.datetime(2026, 11, 16, 6, 0)
    out = []
    tid = 41230
    for i in order:
        r = raw[i]
        tid += rng.choice([1, 1, 1, 2, 3])  # ids are shared with spam and merged tickets
        age = (now - r["ts"]).days
        status = ticket_status(rng, age)
        tags = ticket_tags(rng, r, status)
        channel = {"voicemail": "voice", "form": "web", "mobile": "mobile"}.get(r["channel"], r["channel"])
        out.append([str(tid), r["ts"].strftime("%Y-%m-%dT%H:%M:%SZ"), r["subject"], r["desc"],
                    r["email"], r["account"].name, r["prio"], status, tags, channel])
        if not r.get("dup"):
            truth["tickets"].append({"date": r["ts"].date(), "week": week_of(r["ts"].date()),
                                     "area": r["area"], "kind": r["kind"], "story": r["story"],
                                     "lang": r["lang"]})
        else:
            truth["tickets"].append({"date": r["ts"].date(), "week": week_of(r["ts"].date()), "area": r["area"],
                                     "kind": r["kind"], "story": r["story"], "lang": r["lang"],
                                     "dup": True})
    return out


def ticket_priority(rng, kind, story):
    if story == "incident":
        return rng.choices(["urgent", "high", "normal"], [35, 45, 20])[0]
    w = {"bug": [5, 55, 30, 5, 5], "question": [25, 55, 5, 0, 15],
         "feature_request": [45, 35, 2, 0, 18], "complaint": [5, 55, 28, 2, 10],
         "praise": [50, 30, 0, 0, 20], "other": [40, 40, 0, 0, 20]}.get(kind, [20, 50, 10, 0, 20])
    return rng.choices(["low", "normal", "high", "urgent", ""], w)[0]


def ticket_status(rng, age):
    if age > 14:
        return rng.choices(["closed", "solved", "pending", "hold"], [78, 18, 3, 1])[0]
    if age > 5:
        return rng.choices(["solved", "closed", "pending", "open", "hold"], [50, 15, 15, 15, 5])[0]
    return rng.choices(["new", "open", "pending", "solved", "hold"], [20, 35, 20, 20, 5])[0]


def ticket_tags(rng, r, status):
    tags = []
    agent_tagged = status in ("solved", "closed") and rng.random() < 0.7
    if agent_tagged:
        tags.append(AREA_TAGS[r["area"]][0])
        if rng.random() < 0.3:
            tags.append(rng.choice(AREA_TAGS[r["area"]][1:]))
        if r["story"] == "incident":
            tags += ["outage", "incident_oct"] if rng.random() < 0.5 else ["5xx"]
        if r["story"] == "jira2way":
            tags.append("jira")
        if rng.random() < 0.5:
            tags.append(KIND_TAGS.get(r["kind"], "misc"))
    if r["account"].segment == "Enterprise":
        tags.append("enterprise")
    if r["account"].plan in ("Business", "Enterprise") and rng.random() < 0.5:
        tags.append("priority_support")
    if r["lang"] != "en":
        tags.append("lang_" + r["lang"])
    if r["channel"] == "chat":
        tags.append("zopim_chat")
    if rng.random() < 0.02:
        tags.append(rng.choice(["VIP", "escalated", "Needs_Followup", "csat_bad"]))
    seen = []
    for t in tags:
        if t not in seen:
            seen.append(t)
    return " ".join(seen)


def write_csv(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def summary(truth, files):
    out = []
    p = out.append
    p("rows: " + ", ".join("%s %d" % (k, len(v)) for k, v in files.items()))
    allrows = 0
    en = 0
    for src in ("tickets", "nps", "churn", "lost"):
        c = {}
        for t in truth[src]:
            c[t["lang"]] = c.get(t["lang"], 0) + 1
        n = len(truth[src])
        allrows += n
        en += c.get("en", 0)
        p("%-8s languages: " % src + " ".join("%s %d (%.0f%%)" % (l, c.get(l, 0), 100.0 * c.get(l, 0) / n)
                                             for l in LANGS))
    p("overall English share: %.1f%%" % (100.0 * en / allrows))

    def weekly(src, pred):
        c = [0] * WEEKS
        for t in truth[src]:
            if pred(t):
                c[min(max(t["week"], 1), WEEKS) - 1] += 1
        return c
    p("tickets per week: %s" % weekly("tickets", lambda t: True))
    p("performance_reliability tickets per week: %s" %
      weekly("tickets", lambda t: t["area"] == "performance_reliability"))
    p("  of which incident (502/timeouts/slow since 5.2): %s" %
      weekly("tickets", lambda t: t["story"] == "incident"))
    p("two-way Jira sync requests in tickets per week: %s" %
      weekly("tickets", lambda t: t["story"] == "jira2way"))
    p("HelpHub-inspired ticket requests per week: %s" % weekly("tickets", lambda t: t["story"] == "helphub"))
    p("nps per week: %s" % weekly("nps", lambda t: True))
    for lo, hi, name in ((1, 8, "weeks 1-8"), (9, 12, "weeks 9-12")):
        sel = [t for t in truth["nps"] if lo <= t["week"] <= hi]
        prom = sum(1 for t in sel if t["score"] >= 9)
        det = sum(1 for t in sel if t["score"] <= 6)
        p("NPS %s: %d responses, promoters %d, detractors %d, NPS %+.1f" %
          (name, len(sel), prom, det, 100.0 * (prom - det) / len(sel)))
    p("NPS comments about performance per week: %s" %
      weekly("nps", lambda t: t["area"] == "performance_reliability"))
    p("  of which incident detractors/passives: %s" % weekly("nps", lambda t: t["story"] == "incident"))
    p("NPS comments asking for two-way Jira sync per week: %s" % weekly("nps", lambda t: t["story"] == "jira2way"))
    p("NPS comments naming HelpHub per week: %s" % weekly("nps", lambda t: t["story"] == "helphub"))
    hh = [t for t in truth["churn"] if t["story"] == "helphub"]
    p("churn per week: %s" % weekly("churn", lambda t: True))
    p("churn to HelpHub per week: %s; %d accounts, MRR lost $%s of $%s total churned MRR" %
      (weekly("churn", lambda t: t["story"] == "helphub"), len(hh),
       "{:,}".format(sum(t["mrr"] for t in hh)), "{:,}".format(sum(t["mrr"] for t in truth["churn"]))))
    oc = [t for t in truth["churn"] if t["reason"] == "competitor" and t["story"] == ""]
    p("churn to other competitors: %d accounts, MRR $%s" % (len(oc), "{:,}".format(sum(t["mrr"] for t in oc))))
    pc = [t for t in truth["churn"] if t["story"] == "perf"]
    p("churn citing outages/slowness: %d accounts, MRR $%s (weeks %s)" %
      (len(pc), "{:,}".format(sum(t["mrr"] for t in pc)), [t["week"] for t in pc]))
    jc = [t for t in truth["churn"] if t["story"] == "jira2way"]
    p("churn citing missing two-way Jira sync: %d accounts, MRR $%s" % (len(jc), "{:,}".format(sum(t["mrr"] for t in jc))))
    reasons = {}
    for t in truth["churn"]:
        key = t["reason"] or "(perf)"
        reasons.setdefault(key, [0, 0])
        reasons[key][0] += 1
        reasons[key][1] += t["mrr"]
    p("churn by written reason category: " + ", ".join("%s %d ($%s)" % (k, v[0], "{:,}".format(v[1]))
                                                     for k, v in sorted(reasons.items())))
    hl = [t for t in truth["lost"] if t["comp"] == "HelpHub"]
    p("lost deals per week: %s" % weekly("lost", lambda t: True))
    p("lost deals with competitor HelpHub per week: %s; %d deals, $%s of $%s lost" %
      (weekly("lost", lambda t: t["comp"] == "HelpHub"), len(hl), "{:,}".format(sum(t["size"] for t in hl)),
       "{:,}".format(sum(t["size"] for t in truth["lost"]))))
    comps = {}
    for t in truth["lost"]:
        k = t["comp"] or "(none)"
        comps.setdefault(k, [0, 0])
        comps[k][0] += 1
        comps[k][1] += t["size"]
    p("lost deals by competitor: " + ", ".join("%s %d ($%s)" % (k, v[0], "{:,}".format(v[1]))
                                               for k, v in sorted(comps.items(), key=lambda kv: -kv[1][1])))
    p("lost deals citing missing two-way Jira sync: %d" % sum(1 for t in truth["lost"] if t["story"] == "jira2way"))
    # The report's default window: the last 30 days of data against the 30 before.
    cur = (END - dt.timedelta(days=29), END)
    prev = (END - dt.timedelta(days=59), END - dt.timedelta(days=30))

    def n(src, lo_hi, pred):
        return sum(1 for t in truth[src] if lo_hi[0] <= t["date"] <= lo_hi[1] and pred(t))

    def nps_of(lo_hi, pred=lambda t: True):
        sel = [t for t in truth["nps"] if lo_hi[0] <= t["date"] <= lo_hi[1] and pred(t)]
        prom = sum(1 for t in sel if t["score"] >= 9)
        det = sum(1 for t in sel if t["score"] <= 6)
        return "%+.1f (%d responses)" % (100.0 * (prom - det) / len(sel), len(sel)) if sel else "n/a"
    p("report default window: current %s..%s, previous %s..%s" % (cur[0], cur[1], prev[0], prev[1]))
    for name, src, pred in (
            ("tickets", "tickets", lambda t: True),
            ("performance_reliability tickets", "tickets", lambda t: t["area"] == "performance_reliability"),
            ("two-way Jira tickets", "tickets", lambda t: t["story"] == "jira2way"),
            ("two-way Jira NPS comments", "nps", lambda t: t["story"] == "jira2way"),
            ("performance NPS comments", "nps", lambda t: t["area"] == "performance_reliability"),
            ("HelpHub churn", "churn", lambda t: t["story"] == "helphub"),
            ("HelpHub lost deals", "lost", lambda t: t["comp"] == "HelpHub")):
        p("  %-34s previous %4d  current %4d" % (name, n(src, prev, pred), n(src, cur, pred)))
    p("  NPS previous %s, current %s" % (nps_of(prev), nps_of(cur)))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "corpora", "samples"))
    ap.add_argument("--summary", action="store_true", help="print the planted numbers")
    args = ap.parse_args()

    rng = random.Random(SEED)
    pools = load_pools()
    accounts = make_accounts(rng)
    by_lang = {"*": accounts}
    for a in accounts:
        by_lang.setdefault(a.lang, []).append(a)
    truth = {"tickets": [], "nps": [], "churn": [], "lost": []}

    churn = gen_churn(rng, pools, accounts, by_lang, truth)
    tickets = gen_tickets(rng, pools, accounts, by_lang, truth)
    nps = gen_nps(rng, pools, accounts, by_lang, truth)
    used_names = set(a.name for a in accounts)
    lost = gen_lost(rng, pools, accounts, by_lang, truth, used_names)

    acc_rows = []
    for a in accounts:
        if a.used:
            acc_rows.append([a.name, a.segment, a.plan, str(a.mrr), a.country])
    acc_rows.sort(key=lambda r: r[0].casefold())

    os.makedirs(args.out, exist_ok=True)
    files = {
        "tickets.csv": (["ticket_id", "created_at", "subject", "description", "requester_email",
                         "organization", "priority", "status", "tags", "channel"], tickets),
        "nps.csv": (["response_id", "submitted_at", "score", "comment", "account", "plan"], nps),
        "churn.csv": (["id", "closed_at", "account", "mrr", "reason"], churn),
        "lost_deals.csv": (["opportunity_id", "close_date", "company", "deal_size", "stage",
                            "competitor", "loss_reason"], lost),
        "accounts.csv": (["account", "segment", "plan", "mrr", "country"], acc_rows),
    }
    for name, (header, rows) in files.items():
        write_csv(os.path.join(args.out, name), header, rows)
    if args.summary:
        print(summary(truth, {k: v[1] for k, v in files.items()}))


if __name__ == "__main__":
    main()
