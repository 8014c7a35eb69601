"""Roll-call sheets list deputies in Ukrainian alphabetical order."""

from voting.domain.names import uk_sort_key


def test_ukrainian_alphabet_order_not_code_points() -> None:
    names = [
        "Білоус",
        "Бондаренко",
        "Ґудзь",
        "Гаврилюк",
        "Їжак",
        "Іваненко",
        "Ищенко",
        "Єрмак",
        "Ейсмонт",
        "Яковенко",
        "Щербак",
        "Мʼясоїд",
    ]
    assert sorted(names, key=uk_sort_key) == [
        "Білоус",
        "Бондаренко",
        "Гаврилюк",
        "Ґудзь",
        "Ейсмонт",
        "Єрмак",
        "Ищенко",
        "Іваненко",
        "Їжак",
        "Мʼясоїд",
        "Щербак",
        "Яковенко",
    ]
    # Code-point order would put "Білоус" (і = U+0456) after "Бондаренко" (о = U+043E).
    assert sorted(names).index("Білоус") > sorted(names).index("Бондаренко")


def test_case_and_apostrophe_do_not_change_the_order() -> None:
    assert uk_sort_key("МʼЯСОЇД") == uk_sort_key("мясоїд")
