"""Launches that must work: each role lands on its own page, in its language."""

from __future__ import annotations

from flask import Flask

from tests.support.browser import Browser


def test_teacher_launch_lands_on_teacher_page(browser: Browser) -> None:
    launch = browser.launch("t-tess")
    assert launch.response.status_code == 303
    assert launch.page is not None and launch.page.status_code == 200
    html = launch.page.get_data(as_text=True)
    assert "Tess de Vries" in html
    assert "Biology 4A" in html
    assert 'action="/s/' in html  # the roster sync form, inside this session


def test_student_parent_and_admin_land_on_their_pages(browser: Browser, new_browser) -> None:
    student = browser.launch("s-anna").page
    assert student is not None and student.status_code == 200
    parent = new_browser().launch("p-petra").page
    assert parent is not None and parent.status_code == 200
    admin = new_browser().launch("a-adam").page
    assert admin is not None and admin.status_code == 200
    texts = [p.get_data(as_text=True) for p in (student, parent, admin)]
    assert len(set(texts)) == 3


def test_parent_page_names_the_represented_student(browser: Browser, new_browser) -> None:
    new_browser().launch("s-sam")  # the tool learns Sam's name from Sam's own launch
    page = browser.launch("p-petra").page
    assert page is not None
    assert "Sam" in page.get_data(as_text=True)


def test_locale_from_launch_and_switch(browser: Browser) -> None:
    launch = browser.launch("t-tess")
    assert launch.page is not None
    lang = 'lang="nl"' if 'lang="nl"' in launch.page.get_data(as_text=True) else 'lang="en"'
    other = "en" if lang == 'lang="nl"' else "nl"
    switched = browser.client.get(launch.response.headers["Location"] + f"?lang={other}")
    assert f'<html lang="{other}"' in switched.get_data(as_text=True)


def test_launch_records_course_person_and_sections(app: Flask, browser: Browser) -> None:
    from sqlalchemy import select

    from lti_tool.access.models import Course, CourseGroup, GroupMember, Person

    browser.launch("s-anna")
    with app.extensions["lti_tool"].db.transaction() as session:
        course = session.scalar(select(Course).where(Course.context_id == "course-1"))
        assert course is not None and "Biology" in course.title
        anna = session.scalar(select(Person).where(Person.sub == "s-anna"))
        assert anna is not None
        groups = set(
            session.scalars(
                select(CourseGroup.external_id)
                .join(GroupMember)
                .where(GroupMember.person_id == anna.id)
            )
        )
        assert groups == {"sec-A", "grp-1"}
