"""Where clients are and how their business looks: cities, phone formats, currencies,
company name parts and industries (data only)."""

from __future__ import annotations

# fmt: off
CITIES: dict[str, tuple[str, ...]] = {
    "DE": ("Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Düsseldorf"),
    "AT": ("Wien", "Graz", "Linz", "Salzburg"),
    "CH": ("Zürich", "Genève", "Basel", "Lausanne"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes"),
    "BE": ("Bruxelles", "Antwerpen", "Gent", "Liège"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"),
    "GB": ("London", "Manchester", "Edinburgh", "Bristol", "Leeds"),
    "IE": ("Dublin", "Cork", "Galway"),
    "ES": ("Madrid", "Barcelona", "Sevilla", "València", "Bilbao"),
    "PT": ("Lisboa", "Porto", "Braga"),
    "IT": ("Milano", "Roma", "Torino", "Napoli", "Bologna"),
    "PL": ("Warszawa", "Kraków", "Wrocław", "Gdańsk", "Łódź", "Poznań"),
    "CZ": ("Praha", "Brno", "Ostrava", "Plzeň"),
    "SK": ("Bratislava", "Košice"),
    "UA": ("Kyiv", "Lviv", "Odesa", "Kharkiv"),
    "HR": ("Zagreb", "Split", "Rijeka"),
    "RS": ("Beograd", "Novi Sad"),
    "SI": ("Ljubljana", "Maribor"),
    "SE": ("Stockholm", "Göteborg", "Malmö", "Uppsala"),
    "NO": ("Oslo", "Bergen", "Trondheim", "Tromsø"),
    "DK": ("København", "Aarhus", "Odense", "Aalborg"),
    "FI": ("Helsinki", "Espoo", "Tampere", "Oulu"),
    "IS": ("Reykjavík", "Akureyri"),
    "TR": ("İstanbul", "Ankara", "İzmir", "Bursa"),
    "AE": ("Dubai", "Abu Dhabi", "Sharjah"),
    "SA": ("Riyadh", "Jeddah", "Dammam"),
    "EG": ("Cairo", "Alexandria", "Giza"),
    "MA": ("Casablanca", "Rabat", "Marrakech"),
    "JO": ("Amman", "Irbid"),
    "JP": ("Tokyo", "Ōsaka", "Yokohama", "Nagoya", "Fukuoka"),
    "CN": ("Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Chengdu"),
    "SG": ("Singapore",),
    "KR": ("Seoul", "Busan", "Incheon"),
    "VN": ("Hà Nội", "Thành phố Hồ Chí Minh", "Đà Nẵng"),
    "IN": ("Mumbai", "Bengaluru", "New Delhi", "Pune", "Chennai", "Hyderabad"),
    "MX": ("Ciudad de México", "Guadalajara", "Monterrey", "Querétaro"),
    "BR": ("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Florianópolis"),
    "AR": ("Buenos Aires", "Córdoba", "Rosario"),
    "CO": ("Bogotá", "Medellín", "Cali"),
    "CL": ("Santiago", "Valparaíso"),
    "NG": ("Lagos", "Abuja", "Port Harcourt", "Ibadan"),
    "GH": ("Accra", "Kumasi"),
    "KE": ("Nairobi", "Mombasa", "Kisumu"),
    "ZA": ("Johannesburg", "Cape Town", "Durban", "Pretoria"),
    "ET": ("Addis Ababa",),
    "US": ("New York", "Chicago", "Austin", "Seattle", "Boston", "Atlanta", "Denver"),
    "CA": ("Toronto", "Montréal", "Vancouver", "Calgary", "Ottawa"),
}

#: Phone number formats, ``#`` is a random digit.
PHONE_FORMATS: dict[str, str] = {
    "DE": "+49 15# #######", "AT": "+43 664 #######", "CH": "+41 7# ### ## ##",
    "FR": "+33 6 ## ## ## ##", "BE": "+32 47# ## ## ##", "NL": "+31 6 ########",
    "GB": "+44 7### ######", "IE": "+353 8# ### ####", "ES": "+34 6## ### ###",
    "PT": "+351 9## ### ###", "IT": "+39 3## ### ####", "PL": "+48 ### ### ###",
    "CZ": "+420 ### ### ###", "SK": "+421 9## ### ###", "UA": "+380 ## ### ## ##",
    "HR": "+385 9# ### ####", "RS": "+381 6# ### ####", "SI": "+386 ## ### ###",
    "SE": "+46 7# ### ## ##", "NO": "+47 ### ## ###", "DK": "+45 ## ## ## ##",
    "FI": "+358 4# ### ####", "IS": "+354 ### ####", "TR": "+90 5## ### ## ##",
    "AE": "+971 5# ### ####", "SA": "+966 5# ### ####", "EG": "+20 1## ### ####",
    "MA": "+212 6## ######", "JO": "+962 7# ### ####", "JP": "+81 90-####-####",
    "CN": "+86 1## #### ####", "SG": "+65 #### ####", "KR": "+82 10-####-####",
    "VN": "+84 9# ### ## ##", "IN": "+91 ##### #####", "MX": "+52 55 #### ####",
    "BR": "+55 11 9####-####", "AR": "+54 9 11 ####-####", "CO": "+57 3## ### ####",
    "CL": "+56 9 #### ####", "NG": "+234 80# ### ####", "GH": "+233 2# ### ####",
    "KE": "+254 7## ######", "ZA": "+27 8# ### ####", "ET": "+251 9# ### ####",
    "US": "+1 (###) ###-####", "CA": "+1 (###) ###-####",
}

#: The currency a client in each country pays in.
CURRENCIES: dict[str, str] = {
    "GB": "GBP", "CH": "CHF", "PL": "PLN", "CZ": "CZK", "SE": "SEK", "NO": "NOK", "DK": "DKK",
    "IS": "ISK", "US": "USD", "CA": "CAD", "JP": "JPY", "AE": "AED", "SA": "SAR", "IN": "INR",
    "BR": "BRL", "MX": "MXN", "SG": "SGD", "ZA": "ZAR",
}
#: Fallback for countries not listed above (the CRM's home market bills in euro).
DEFAULT_CURRENCY = "EUR"

#: Rough units of each currency per euro, so that a deal in yen or kronor has a
#: plausible size; currencies not listed count one to one.
CURRENCY_SCALE: dict[str, float] = {
    "GBP": 0.85, "CHF": 0.95, "PLN": 4.3, "CZK": 25.0, "SEK": 11.5, "NOK": 11.5, "DKK": 7.5,
    "ISK": 150.0, "USD": 1.1, "CAD": 1.5, "JPY": 160.0, "AED": 4.0, "SAR": 4.1, "INR": 90.0,
    "BRL": 5.5, "MXN": 19.0, "SGD": 1.45, "ZAR": 20.0,
}

#: Legal-form suffix per country, so that a generated company reads local.
LEGAL_FORMS: dict[str, str] = {
    "DE": "GmbH", "AT": "GmbH", "CH": "AG", "FR": "SAS", "BE": "NV", "NL": "B.V.", "GB": "Ltd",
    "IE": "Ltd", "ES": "S.L.", "PT": "Lda.", "IT": "S.r.l.", "PL": "Sp. z o.o.", "CZ": "s.r.o.",
    "SK": "s.r.o.", "HR": "d.o.o.", "RS": "d.o.o.", "SI": "d.o.o.", "SE": "AB", "NO": "AS",
    "DK": "ApS", "FI": "Oy", "IS": "ehf.", "TR": "A.Ş.", "JP": "K.K.", "BR": "Ltda.",
    "MX": "S.A. de C.V.", "AR": "S.A.", "CO": "S.A.S.", "CL": "SpA", "US": "Inc.", "CA": "Inc.",
    "IN": "Pvt Ltd", "ZA": "(Pty) Ltd", "AE": "LLC", "SA": "LLC", "SG": "Pte Ltd",
}
DEFAULT_LEGAL_FORM = "Ltd"

#: Top-level domain per country; the rest use ``.com``.
TLDS: dict[str, str] = {
    "DE": "de", "AT": "at", "CH": "ch", "FR": "fr", "BE": "be", "NL": "nl", "GB": "co.uk",
    "IE": "ie", "ES": "es", "PT": "pt", "IT": "it", "PL": "pl", "CZ": "cz", "SK": "sk", "HR": "hr",
    "SE": "se", "NO": "no", "DK": "dk", "FI": "fi", "IS": "is", "TR": "com.tr", "JP": "co.jp",
    "BR": "com.br", "MX": "com.mx", "IN": "in", "ZA": "co.za", "KE": "co.ke", "NG": "ng",
}

COMPANY_PREFIXES: tuple[str, ...] = (
    "Nord", "Baltic", "Alpen", "Blue", "Silver", "Green", "North", "Atlas", "Polar", "Sakura",
    "Andes", "Sahara", "Delta", "Vista", "Aurora", "Cedar", "Falcon", "Harbor", "Iron", "Nova",
    "Orion", "Pacific", "Granite", "Summit", "Terra", "Union", "Zenith", "Amber", "Fjord",
    "Kilimanjaro", "Lotus", "Meridian", "Oasis", "Pampa", "Quantum", "Río", "Solaris", "Tundra",
    "Vanguard", "Westwind", "Zephyr", "Élan", "Lumière",
)
COMPANY_CORES: tuple[str, ...] = (
    "Logistics", "Systems", "Foods", "Pharma", "Energy", "Textiles", "Analytics", "Robotics",
    "Holdings", "Consulting", "Retail", "Freight", "Software", "Labs", "Medical", "Builders",
    "Agro", "Media", "Motors", "Finance", "Packaging", "Telecom", "Hospitality", "Devices",
    "Chemicals", "Outdoor", "Furniture", "Optics", "Marine", "Solar", "Water", "Security",
    "Education", "Insurance", "Interiors", "Tools",
)

INDUSTRIES: tuple[str, ...] = (
    "Manufacturing", "Logistics", "Retail", "Software", "Healthcare", "Financial services",
    "Energy", "Construction", "Food & beverage", "Telecommunications", "Education", "Hospitality",
    "Automotive", "Pharmaceuticals", "Media", "Agriculture", "Professional services",
    "Public sector",
)
# fmt: on
