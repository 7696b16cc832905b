"""Name pools for the demo CRM: the people (places and companies are in places.py).

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
