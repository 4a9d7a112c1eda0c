"""The AMIs page's search as DescribeImages parameters, and its pager's bounded stack."""

from urllib.parse import parse_qs

from amishare.console.image_search import CATALOG, MAX_BACK, MAX_TOKENS, Search


def search(query: str, **kwargs) -> Search:
    return Search.from_query(parse_qs(query, keep_blank_values=True), **kwargs)


def test_properties_become_filters_and_an_owner_the_owners_index():
    params = search("filter=public&name=web&q=architecture:arm64&q=architecture:x86_64&q=tag:Team=blue"
                    "&q=visibility:Private&q=owner:123456789012").describe_params(50)
    assert params["Owners"] == ["123456789012"]
    # The scope's own filter stays: "Public images" with Visibility = Private is nothing, as the API says.
    assert params["Filters"] == [
        {"Name": "is-public", "Values": ["true"]}, {"Name": "name", "Values": ["*web*"]},
        {"Name": "architecture", "Values": ["arm64", "x86_64"]}, {"Name": "tag:Team", "Values": ["blue"]},
        {"Name": "is-public", "Values": ["false"]}]
    assert params["MaxResults"] == 50 and "NextToken" not in params
    # In a scope that already names its owners, an Owner narrows it as a filter.
    owned = search("filter=owned&q=owner:123456789012").describe_params(50)
    assert owned["Owners"] == ["self"] and owned["Filters"] == [{"Name": "owner-id", "Values": ["123456789012"]}]
    assert search("filter=shared&q=tag-key:Team").describe_params(50)["Filters"] == [
        {"Name": "tag-key", "Values": ["Team"]}]
    assert "Filters" not in search("filter=shared").describe_params(50)


def test_hostile_queries_are_bounded():
    many = "&".join(f"q=name:n{i}" for i in range(100))
    s = search(f"filter=nonsense&{many}&q=unknown:x&q=name:&next_token=bad%20token&back=a,b%20c,.")
    assert s.scope == "owned" and len(s.tokens) == MAX_TOKENS and s.token == ""
    assert s.back == ["a", "."]
    assert len(search("q=name:" + "x" * 5000).tokens[0][1]) == 255


def test_previous_pages_come_from_a_bounded_stack():
    s = search("filter=owned")
    assert s.previous_page() is None
    page = s
    tokens = [f"T{i}" for i in range(MAX_BACK + 5)]
    for token in tokens:
        page = search(page.next_page(token))
    assert page.token == tokens[-1] and len(page.back) == MAX_BACK
    back = search(page.previous_page())
    assert back.token == tokens[-2]
    # Back to the first page, as far as the stack holds; "First page" always works.
    first = search("filter=owned")
    second = search(first.next_page("T0"))
    assert search(second.previous_page()).token == ""
    assert "next_token" not in page.first_page()


def test_catalog_tabs():
    assert search("tab=community&name=ubuntu", scopes=CATALOG, scope_param="tab").describe_params(20) == {
        "ExecutableUsers": ["all"], "Filters": [{"Name": "name", "Values": ["*ubuntu*"]}], "MaxResults": 20}
    assert search("tab=", scopes=CATALOG, scope_param="tab").scope == "quickstart"
