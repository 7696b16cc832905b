"""Name pools for the demo CRM: people, places, companies, industries.

Only data. Names are grouped by culture so that a generated person has a first and a
last name that belong together and lives in a country where such a name is common;
a demo where "Łukasz Kowalski" lives in Kraków and "Ngozi Okafor" in Lagos reads as
a real client base, and the non-ASCII spellings exercise every path that handles text
(search, export, masking, e-mail generation).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class NamePool:
    """First and last names of one culture, the countries its people live in, and how
    common it is in the client base (``weight``)."""

    key: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    countries: tuple[str, ...]
    weight: int


# fmt: off
NAME_POOLS: tuple[NamePool, ...] = (
    NamePool(
        "german",
        (
            "Anna", "Lukas", "Jürgen", "Sophie", "Maximilian", "Lea", "Günter", "Katrin",
            "Felix", "Mia", "Jörg", "Hannah", "Tobias", "Bärbel", "Jonas", "Uwe",
        ),
        (
            "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Schäfer", "Koch",
            "Hoffmann", "Wagner", "Krüger", "Schröder", "Zimmermann", "Braun",
        ),
        ("DE", "DE", "DE", "AT", "CH"),
        9,
    ),
    NamePool(
        "french",
        (
            "Zoë", "Chloé", "Hélène", "Léa", "Mathieu", "Théo", "Benoît", "Élodie", "François",
            "Camille", "Jérôme", "Inès", "Louis", "Gaëlle", "Noël", "Amélie",
        ),
        (
            "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Lambert",
            "Fontaine", "Bonnet", "Mercier", "Château", "Leclerc", "Faure",
        ),
        ("FR", "FR", "FR", "BE", "CH"),
        7,
    ),
    NamePool(
        "dutch",
        (
            "Daan", "Sanne", "Joris", "Femke", "Bram", "Lotte", "Sem", "Anouk", "Thijs",
            "Eline", "Ruben", "Maartje",
        ),
        (
            "de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
            "Mulder", "van den Berg", "Dekker", "Peeters",
        ),
        ("NL", "NL", "BE"),
        4,
    ),
    NamePool(
        "british",
        (
            "Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Siobhán", "Callum",
            "Niamh", "Rhys", "Eilidh", "Seán", "Charlotte", "Jack",
        ),
        (
            "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "O'Brien", "Murphy",
            "MacLeod", "Davies", "Walsh", "Campbell", "Hughes", "Kelly",
        ),
        ("GB", "GB", "GB", "IE"),
        7,
    ),
    NamePool(
        "iberian",
        (
            "José", "María", "Lucía", "Javier", "Carmen", "Andrés", "Álvaro", "Begoña", "Iñaki",
            "Núria", "João", "Inês", "Gonçalo", "Beatriz", "Sofía", "Raúl",
        ),
        (
            "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
            "Pérez", "Muñoz", "Ibáñez", "Silva", "Conceição", "Gonçalves", "Araújo",
        ),
        ("ES", "ES", "ES", "PT"),
        6,
    ),
    NamePool(
        "italian",
        (
            "Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Niccolò", "Elena",
            "Alessandro", "Martina", "Lorenzo", "Giorgia",
        ),
        (
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "De Luca",
        ),
        ("IT", "IT", "IT", "CH"),
        5,
    ),
    NamePool(
        "polish",
        (
            "Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Krzysztof", "Zofia", "Wojciech",
            "Joanna", "Michał", "Katarzyna", "Jędrzej", "Anna", "Tomasz", "Ewa",
        ),
        (
            "Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
            "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Krawczyk",
        ),
        ("PL",),
        6,
    ),
    NamePool(
        "czech",
        (
            "Jiří", "Tereza", "Tomáš", "Lucie", "Ondřej", "Kateřina", "Vojtěch", "Markéta",
            "Jan", "Barbora",
        ),
        (
            "Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák",
            "Němec", "Marek",
        ),
        ("CZ", "CZ", "SK"),
        3,
    ),
    NamePool(
        "east_slavic",
        (
            "Olena", "Dmytro", "Iryna", "Oleksandr", "Nataliya", "Andriy", "Yuliya", "Serhiy",
            "Oksana", "Bohdan",
        ),
        (
            "Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk",
            "Boyko", "Oliynyk", "Savchenko", "Rudenko",
        ),
        ("UA",),
        3,
    ),
    NamePool(
        "south_slavic",
        (
            "Ivana", "Luka", "Marija", "Stjepan", "Ana", "Dragan", "Jelena", "Nikola", "Mirela",
            "Goran",
        ),
        (
            "Horvat", "Kovačević", "Babić", "Marić", "Jurić", "Novaković", "Petrović",
            "Knežević", "Vuković", "Pavlović",
        ),
        ("HR", "HR", "RS", "SI"),
        3,
    ),
    NamePool(
        "nordic",
        (
            "Søren", "Ingrid", "Åsa", "Björn", "Sigrid", "Mikkel", "Freja", "Lars", "Maja",
            "Henrik", "Astrid", "Øystein", "Linnéa", "Kjell",
        ),
        (
            "Andersson", "Johansson", "Nilsson", "Hansen", "Jørgensen", "Sørensen", "Lindqvist",
            "Bjørnstad", "Håkansson", "Løvland", "Berg", "Nyström",
        ),
        ("SE", "SE", "NO", "NO", "DK", "DK"),
        5,
    ),
    NamePool(
        "finnish",
        (
            "Aino", "Juha", "Päivi", "Mikko", "Sanna", "Jyrki", "Eeva", "Ville",
        ),
        (
            "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Hämäläinen", "Järvinen",
            "Heikkinen", "Lehtonen",
        ),
        ("FI",),
        2,
    ),
    NamePool(
        "icelandic",
        (
            "Ólafur", "Guðrún", "Sigríður", "Þórður", "Björk", "Einar", "Ragnhildur", "Kári",
        ),
        (
            "Jónsson", "Gunnarsson", "Guðmundsson", "Ólafsson", "Þórsson", "Magnússon",
            "Einarsson", "Stefánsson",
        ),
        ("IS",),
        1,
    ),
    NamePool(
        "turkish",
        (
            "Ayşe", "Mehmet", "Elif", "Mustafa", "Zeynep", "Emre", "Gülşen", "Çağrı", "Özlem",  # noqa: RUF001
            "Burak",
        ),
        (
            "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Arslan",  # noqa: RUF001
            "Doğan",
        ),
        ("TR",),
        3,
    ),
    NamePool(
        "arabic",
        (
            "Omar", "Fatima", "Ahmed", "Layla", "Youssef", "Mariam", "Karim", "Noor", "Hassan",
            "Aisha", "Khalid", "Rania", "Tariq", "Salma",
        ),
        (
            "Al-Farsi", "Haddad", "Mansour", "El-Sayed", "Nasser", "Khoury", "Aziz", "Bakr",
            "Hamdan", "Saleh", "Rahman", "Benali", "Qasim", "Darwish",
        ),
        ("AE", "AE", "SA", "EG", "MA", "JO"),
        5,
    ),
    NamePool(
        "japanese",
        (
            "Haruto", "Yui", "Sōta", "Aoi", "Ren", "Sakura", "Kenji", "Yūko", "Takeshi", "Hina",
        ),
        (
            "Satō", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Itō", "Yamamoto", "Nakamura",
            "Kobayashi", "Katō",
        ),
        ("JP",),
        3,
    ),
    NamePool(
        "chinese",
        (
            "Wei", "Fang", "Jing", "Lei", "Xiaoling", "Hao", "Mei", "Jun", "Yan", "Zhiwei",
        ),
        (
            "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
        ),
        ("CN", "CN", "SG"),
        4,
    ),
    NamePool(
        "korean",
        (
            "Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Su-bin", "Jae-won", "Eun-ji",
        ),
        (
            "Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon",
        ),
        ("KR",),
        2,
    ),
    NamePool(
        "vietnamese",
        (
            "Linh", "Minh", "Thảo", "Dũng", "Hương", "Tuấn", "Ngọc", "Quang",
        ),
        (
            "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi",
        ),
        ("VN",),
        2,
    ),
    NamePool(
        "indian",
        (
            "Priya", "Arjun", "Ananya", "Rahul", "Kavya", "Vikram", "Deepika", "Rohan",
            "Aishwarya", "Sanjay",
        ),
        (
            "Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Mehta", "Rao", "Banerjee",
            "Singh",
        ),
        ("IN", "IN", "IN", "SG", "AE"),
        4,
    ),
    NamePool(
        "latin_american",
        (
            "Valentina", "Mateo", "Camila", "Santiago", "Ximena", "Sebastián", "Renata",
            "Joaquín", "Guadalupe", "Tomás", "Luana", "Thiago", "Fernanda", "Caio",
        ),
        (
            "Hernández", "Ramírez", "Torres", "Flores", "Gómez", "Díaz", "Vargas", "Castillo",
            "Santos", "Oliveira", "Souza", "Ferreira", "Ortiz", "Peña",
        ),
        ("MX", "MX", "BR", "BR", "AR", "CO", "CL"),
        5,
    ),
    NamePool(
        "west_african",
        (
            "Ngozi", "Chinedu", "Adaeze", "Oluwaseun", "Funmilayo", "Emeka", "Kwame", "Ama",
            "Kofi", "Abena", "Yaw", "Chiamaka",
        ),
        (
            "Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu", "Mensah", "Asante",
            "Boateng", "Owusu", "Adebayo", "Obi",
        ),
        ("NG", "NG", "GH"),
        3,
    ),
    NamePool(
        "east_southern_african",
        (
            "Wanjiru", "Kamau", "Achieng", "Otieno", "Thandiwe", "Sipho", "Nomvula", "Themba",
            "Tigist", "Abebe", "Zanele", "Mandla",
        ),
        (
            "Mwangi", "Kariuki", "Odhiambo", "Njoroge", "Dlamini", "Nkosi", "Ndlovu", "Khumalo",
            "Tesfaye", "Bekele", "van der Merwe", "Mokoena",
        ),
        ("KE", "KE", "ZA", "ZA", "ET"),
        3,
    ),
    NamePool(
        "north_american",
        (
            "Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Madison", "Tyler", "Brooke",
            "Logan", "Geneviève", "Étienne",
        ),
        (
            "Johnson", "Williams", "Miller", "Davis", "Anderson", "Thompson", "Moore", "Clark",
            "Tremblay", "Gagnon", "Roy", "Lewis",
        ),
        ("US", "US", "US", "CA"),
        6,
    ),
)
# fmt: on

#: Women's names in pools whose surnames change with the bearer (Icelandic patronyms;
#: Polish and Czech women's names are told apart by their ending).
FEMININE_FIRST_NAMES: frozenset[str] = frozenset({"Guðrún", "Sigríður", "Björk", "Ragnhildur"})

#: Cumulative weights of :data:`NAME_POOLS`, for ``random.choices(cum_weights=...)``.
POOL_CUM_WEIGHTS: tuple[int, ...] = tuple(accumulate(pool.weight for pool in NAME_POOLS))

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
