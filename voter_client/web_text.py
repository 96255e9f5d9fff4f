"""The web UI's words in Japanese (the default) and English (pure; no I/O).

`text(lang)` gives the page words of one language; `reason_text` explains a refusal from the
card or the registrar (`jpki.reasons`) in the voter's language.
"""

from __future__ import annotations

import datetime as dt

from jpki.reasons import Reason, explain

__all__ = ["LANGS", "reason_text", "text", "when"]

_WEEKDAYS_JA = "月火水木金土日"

LANGS = ("ja", "en")

_JA: dict[str, str] = {
    "site": "インターネット投票",
    "skip": "本文へ移動",
    "switch": "English",
    "switch_lang": "en",
    "steps_label": "手順",
    "step_election": "選挙",
    "step_code": "投票コード",
    "step_choose": "選択",
    "step_review": "確認",
    "step_card": "カード",
    "step_cast": "投票",
    "step_receipt": "受領証",
    "elections_title": "選挙を選んでください",
    "elections_intro": "いま投票できる選挙です。投票資格（年齢・住所）は、"
    "カードで本人確認するときに確かめられます。",
    "elections_none": "いま投票を受け付けている選挙はありません。",
    "election_day": "選挙期日",
    "voting_period": "投票期間",
    "eligible": "投票できる人",
    "eligible_value": "{areas}に住む{age}歳以上の人",
    "choose_this": "この選挙で投票する",
    "fingerprint": "選挙の確認番号",
    "fingerprint_hint": "お手元の投票コードの通知に書かれた確認番号と同じか確かめてください。"
    "違うときは投票しないでください。",
    "code_title": "投票コードを入力してください",
    "code_label": "投票コード（はがきに書かれた16文字）",
    "code_hint": "例：ABCD-EFGH-JKLM-NPQR。ハイフン（ー）や空白はあってもなくてもかまいません。",
    "next": "次へ",
    "back": "戻る",
    "choose_title": "投票先を選んでください",
    "rule_single": "1つ選んでください。",
    "rule_k_of_n": "{min}〜{max}件選んでください。",
    "rule_k_of_n_people": "{min}〜{max}人選んでください。",
    "rule_ranked": "好きな順に番号をつけてください（{min}〜{max}件）。",
    "rule_ties": "同じ順位をつけることができます。",
    "blank": "白票（だれも選ばない）",
    "rank_none": "順位なし",
    "party": "所属",
    "photo_of": "{name}の写真",
    "reading": "よみ",
    "to_review": "確認画面へ",
    "not_chosen": "「{title}」で何も選ばれていません。選ぶか、白票を選んでください。",
    "blank_and_option": "「{title}」で白票と候補の両方が選ばれています。"
    "どちらか一方にしてください。",
    "invalid_choice": "「{title}」の選び方は数えられません。{rule}",
    "why_no_option": "選択肢にないものが選ばれています",
    "why_one_only": "選べるのは1つだけです",
    "why_twice": "同じ選択肢が2回選ばれています",
    "why_at_most": "選べる数（{n}）を超えています",
    "why_at_least": "選んだ数が{n}に足りません",
    "why_shared_rank": "2つの選択肢に同じ順位はつけられません",
    "why_no_blank": "この項目では白票は選べません",
    "review_title": "投票内容の確認",
    "review_intro": "次の内容で暗号化しました。変更するときは「変更」を押してください。",
    "change": "変更",
    "change_contest": "「{title}」を変更",
    "blank_vote": "白票",
    "rank_n": "{rank}位",
    "rank_line": "{rank}：{name}",
    "tracker": "票の照合番号",
    "tracker_hint": "受領証と、あとで行う受領証の確認にも同じ番号が表示されます。",
    "revote_last": "この選挙では投票をやり直せます。あとから投票すると、"
    "前の票の代わりにその票だけが数えられます。",
    "revote_first": "この選挙では最初の票だけが数えられます。投票したあとで変えることはできません"
    "。",
    "to_card": "カードで本人確認へ進む",
    "audit_heading": "暗号化を確かめる",
    "audit_explain": "投票せずに、この暗号化が選んだ内容どおりか確かめることができます。"
    "確かめた票は使えなくなり（無効にされ）、あとで新しく暗号化して投票します。",
    "audit_button": "投票せずにこの暗号化を確かめる",
    "card_title": "マイナンバーカードで本人確認",
    "card_intro": "カードをカードリーダーに置いて、署名用電子証明書のパスワード"
    "（英数字6〜16文字）を入力してください。",
    "tries_left": "パスワードはあと{n}回まちがえるとロックされます。",
    "password": "署名用パスワード",
    "sign_button": "カードで署名する",
    "cast_title": "投票します",
    "cast_intro": "票は暗号化され、カードで署名されました。まだ送信していません。",
    "cast_button": "この内容で投票する",
    "not_cast_note": "投票しない場合は「やめる」を押してください。何も送信されず、"
    "署名した票は破棄されます。ほかのページを開いたときや、5分たったときも破棄されます。",
    "quit_button": "やめる（入力した内容を消す）",
    "ask_button": "票が届いたか確かめる",
    "public_terminal": "共用のパソコン（役所や投票所の端末など）では、投票が終わったら"
    "カードを抜き、画面を閉じてください。途中でやめるときも、カードを抜いてください。",
    "vote_forgotten": "前の投票の途中の内容（選んだ内容や署名した票）は消去しました。"
    "何も送信されていません。",
    "signed_discarded": "署名した票は送信されないまま破棄しました。投票するときは、"
    "もう一度カードで署名してください。",
    "vote_idle": "しばらく操作がなかったため、入力した内容を消去しました。何も送信されていません。",
    "nothing_to_cast": "送信できる票はありません。最初から投票してください。",
    "cast_absent": "票は届いていませんでした（受付先の記録を確かめました）。"
    "何も記録されていません。もう一度「この内容で投票する」を押してください。",
    "cast_unknown": "通信が途中で切れたため、票が届いたかどうか分かりません。"
    "しばらくしてから「票が届いたか確かめる」を押してください。もう一度送信はしません。",
    "cast_arrived": "通信は途中で切れましたが、票は届いて記録されていました（記録番号{index}）。"
    "投票が完了しました。カードを抜いてください。",
    "receipt_title": "投票が完了しました",
    "receipt_done": "投票が完了しました。カードを抜いてください。",
    "receipt_replaced": "この票は、前に投票した票の代わりになりました。"
    "数えられるのはこの票だけです。",
    "receipt_first": "これはこの選挙でのあなたの最初の票です。",
    "receipt_saved": "受領証はこのパソコンにも保存しました。",
    "receipt_index": "記録番号",
    "details": "詳しい情報",
    "receipt_file": "受領証のファイル",
    "receipt_download": "受領証をダウンロード",
    "check_button": "票が記録されているか確かめる",
    "receipt_leave": "この画面を閉じると、受領証はこの画面からは見られなくなります"
    "（共用のパソコンで次の人に見られないようにするためです）。",
    "receipts_title": "受領証の確認",
    "receipts_intro": "ダウンロードした受領証のファイルを選ぶと、あなたの票が記録されているか"
    "確かめられます。",
    "receipt_choose": "受領証のファイル",
    "receipt_gone": "この受領証はもうこの画面からは開けません。ダウンロードした受領証のファイルで"
    "確かめてください。",
    "receipt_bad": "このファイルは受領証として読み取れません。ダウンロードした受領証のファイルを"
    "選んでください。",
    "check_title": "受領証の確認",
    "check_ok": "あなたの票は記録に含まれています（記録番号{index}）。"
    "記録の履歴も受領証と一致しています。",
    "check_forged": "この受領証は、この選挙の受付先がこの票に発行したものではありません。"
    "何の証明にもなりません。",
    "check_missing": "あなたの票は、受領証が示す場所で記録に見つかりません。"
    "受領証を保管し、選挙管理委員会に知らせてください。",
    "check_not_yours": "警告：受領証が示す場所にある記録は、あなたの票ではありません。"
    "受領証を保管し、選挙管理委員会に知らせてください。",
    "check_forked": "警告：記録の履歴が受領証と矛盾しています"
    "（記録が書き換えられたおそれがあります）。受領証を保管し、選挙管理委員会に知らせてください。",
    "audit_title": "暗号化の確認結果",
    "audit_passed": "確認できました。この票は次の内容を正しく暗号化していました。",
    "audit_failed": "確認に失敗しました。この端末は選んだ内容と違うものを暗号化しました"
    "。この端末で投票しないでください。",
    "audit_spoiled": "この票は確認のために無効にされ、送信されていません。",
    "audit_download": "確認用ファイルをダウンロード",
    "audit_details": "ダウンロードしたファイルは、検証ソフトウェアの「tohyo verify ballot」"
    "でも確かめられます。",
    "audit_again": "新しく暗号化して投票に進む",
    "error_title": "投票を続けられませんでした",
    "error_next": "入力した投票コードと選んだ内容は残っています。解決しないときは、"
    "選挙管理委員会にお問い合わせください。投票所で投票することもできます。",
    "back_to_step": "前の手順に戻る",
    "try_again": "もう一度試す",
    "start_over": "最初から",
    "csrf": "この操作は受け付けられません。ページを読み込み直して、もう一度お試しください。",
    "board_unreachable": "投票の受付先に接続できません。何も送信されていません。"
    "インターネットへの接続を確かめ、しばらくしてからもう一度お試しください。",
    "board_bad": "投票の受付先が正しいか確かめられませんでした。"
    "この画面からは投票しないでください。",
    "not_recorded": "警告：受付先は受け付けたと答えましたが、あなたの票が記録にあることを"
    "示していません。票が捨てられたか差し替えられたおそれがあります。"
    "このパソコンに証拠を保存しました。選挙管理委員会に知らせ、"
    "別の場所から投票し直すか、投票所で投票してください。",
    "no_reader": "カードリーダーが見つかりません。カードリーダーをつないで、"
    "もう一度お試しください。",
    "no_card": "カードが読み取れません。カードをカードリーダーに正しく置いて、"
    "もう一度お試しください。",
    "password_empty": "パスワードを入力してください。",
    "password_format": "署名用パスワードは英数字6〜16文字です。カードには送っていません"
    "（残り回数は減っていません）。",
    "code_bad_format": "投票コードの形式が正しくありません。はがきの16文字を確かめてください。"
    "何も送信されていません。",
    "code_busy": "投票コードの確認が続いたため、しばらく受け付けられません。"
    "1分ほど待ってから、もう一度お試しください。何も送信されていません。",
    "not_voting": "この選挙はいま投票を受け付けていません。",
    "no_election": "先に選挙を選んでください。",
    "refused": "票は受け付けられませんでした。{reason}票は記録されていません。",
    "not_found": "ページが見つかりません。",
}

_EN: dict[str, str] = {
    "site": "Internet voting",
    "skip": "Skip to main content",
    "switch": "日本語",
    "switch_lang": "ja",
    "steps_label": "Steps",
    "step_election": "Election",
    "step_code": "Voting code",
    "step_choose": "Choose",
    "step_review": "Review",
    "step_card": "Card",
    "step_cast": "Cast",
    "step_receipt": "Receipt",
    "elections_title": "Choose an election",
    "elections_intro": "These elections are open for voting now. Your eligibility (age and "
    "address) is checked when you authenticate with your card.",
    "elections_none": "No election is open for voting now.",
    "election_day": "Election day",
    "voting_period": "Voting period",
    "eligible": "Who may vote",
    "eligible_value": "people aged {age} or over living in {areas}",
    "choose_this": "Vote in this election",
    "fingerprint": "Election fingerprint",
    "fingerprint_hint": "Check that it is the one printed on your voting-code letter. If it "
    "differs, do not vote here.",
    "code_title": "Enter your voting code",
    "code_label": "Voting code (the 16 characters on your postcard)",
    "code_hint": "For example ABCD-EFGH-JKLM-NPQR. Hyphens (-, ー) and spaces are optional.",
    "next": "Next",
    "back": "Back",
    "choose_title": "Make your choice",
    "rule_single": "Choose one.",
    "rule_k_of_n": "Choose {min} to {max}.",
    "rule_k_of_n_people": "Choose {min} to {max} people.",
    "rule_ranked": "Number the options in order of preference ({min} to {max} of them).",
    "rule_ties": "Options may share a rank.",
    "blank": "Blank vote (choose nobody)",
    "rank_none": "not ranked",
    "party": "Party",
    "photo_of": "Photo of {name}",
    "reading": "Reading",
    "to_review": "Review my ballot",
    "not_chosen": "Nothing is chosen in “{title}”. Choose, or choose a blank vote.",
    "blank_and_option": "In “{title}” both a blank vote and an option are chosen. Choose one "
    "or the other.",
    "invalid_choice": "These choices in “{title}” would not count. {rule}",
    "why_no_option": "an option that is not on the ballot is chosen",
    "why_one_only": "only one may be chosen",
    "why_twice": "an option is chosen twice",
    "why_at_most": "at most {n} may be chosen",
    "why_at_least": "choose at least {n}",
    "why_shared_rank": "two options cannot share a rank",
    "why_no_blank": "a blank vote is not allowed here",
    "review_title": "Check your ballot",
    "review_intro": "This is what has been encrypted. Press “Change” to change anything.",
    "change": "Change",
    "change_contest": "Change “{title}”",
    "blank_vote": "Blank vote",
    "rank_n": "rank {rank}",
    "rank_line": "{rank}: {name}",
    "tracker": "Tracking code of your ballot",
    "tracker_hint": "The receipt and the receipt check show the same code.",
    "revote_last": "You may vote again in this election: a later ballot replaces the earlier "
    "one, and only the last one counts.",
    "revote_first": "In this election only your first ballot counts; it cannot be changed "
    "after casting.",
    "to_card": "Continue to card authentication",
    "audit_heading": "Check the encryption",
    "audit_explain": "Instead of casting, you may check that this encryption holds exactly your "
    "choices. A checked ballot is spoiled; you then encrypt afresh to cast.",
    "audit_button": "Check this encryption instead of casting it",
    "card_title": "Authenticate with your My Number Card",
    "card_intro": "Place your card on the reader and enter the password of your signing "
    "certificate (6 to 16 letters and digits).",
    "tries_left": "{n} tries are left before the card locks the password.",
    "password": "Signing password",
    "sign_button": "Sign with my card",
    "cast_title": "Cast your ballot",
    "cast_intro": "Your ballot is encrypted and signed by your card. It has not been sent yet.",
    "cast_button": "Cast this ballot",
    "not_cast_note": "If you do not want to vote now, press “Stop”. Nothing is sent and the "
    "signed ballot is discarded; it is also discarded when you open another page or after "
    "5 minutes.",
    "quit_button": "Stop (clear what I entered)",
    "ask_button": "Check whether my ballot arrived",
    "public_terminal": "On a shared computer (a terminal at the town hall or a polling "
    "station), remove your card and close this window when you are done, or when you stop "
    "halfway.",
    "vote_forgotten": "What was entered for an unfinished vote (choices, a signed ballot) has "
    "been cleared. Nothing was sent.",
    "signed_discarded": "The signed ballot was discarded without being sent. To vote, sign "
    "again with your card.",
    "vote_idle": "Nothing happened for a while, so what you entered has been cleared. Nothing "
    "was sent.",
    "nothing_to_cast": "There is no ballot to cast here. Please start your vote again.",
    "cast_absent": "Your ballot did not arrive (the record was checked). Nothing was recorded. "
    "Press “Cast this ballot” again.",
    "cast_unknown": "The connection broke, so it is not known whether your ballot arrived. "
    "Wait a moment, then press “Check whether my ballot arrived”. Nothing is sent again.",
    "cast_arrived": "The connection broke, but your ballot did arrive and is recorded "
    "(entry {index}). Your vote is complete. Please remove your card.",
    "receipt_title": "Your vote is complete",
    "receipt_done": "Your vote is complete. Please remove your card.",
    "receipt_replaced": "It replaces the ballot you cast before: only this one will be counted.",
    "receipt_first": "This is your first ballot in this election.",
    "receipt_saved": "The receipt is also saved on this computer.",
    "receipt_index": "Entry number",
    "details": "Details",
    "receipt_file": "Receipt file",
    "receipt_download": "Download the receipt",
    "check_button": "Check that my ballot is recorded",
    "receipt_leave": "Once you close this page, the receipt cannot be opened here again (so "
    "that the next person at a shared computer cannot see it).",
    "receipts_title": "Receipt check",
    "receipts_intro": "Choose the receipt file you downloaded to check that your ballot is "
    "recorded.",
    "receipt_choose": "Receipt file",
    "receipt_gone": "This receipt can no longer be opened here. Check it with the receipt file "
    "you downloaded.",
    "receipt_bad": "This file cannot be read as a receipt. Choose the receipt file you downloaded.",
    "check_title": "Receipt check",
    "check_ok": "Your ballot is in the record: entry {index}, and the record's history "
    "agrees with your receipt.",
    "check_forged": "This receipt was not issued for this ballot by this election's service; "
    "it proves nothing.",
    "check_missing": "Your ballot is NOT in the record at the place your receipt gives. "
    "Keep your receipt and report this to the election office.",
    "check_not_yours": "WARNING: the entry at your receipt's place is NOT your ballot. Keep "
    "your receipt and report this to the election office.",
    "check_forked": "WARNING: the record now shows a history that contradicts your receipt (it "
    "may have been rewritten). Keep your receipt and report this to the election office.",
    "audit_title": "Result of the encryption check",
    "audit_passed": "Checked: this ballot correctly encrypted these choices:",
    "audit_failed": "The check FAILED: this device encrypted something other than "
    "your choices. Do not vote with this device.",
    "audit_spoiled": "This ballot was spoiled by the check and was not sent.",
    "audit_download": "Download the audit file",
    "audit_details": "The downloaded file can also be checked with the verifier's "
    "“tohyo verify ballot”.",
    "audit_again": "Encrypt afresh and continue to vote",
    "error_title": "Your vote could not go on",
    "error_next": "Your voting code and your choices are kept. If this does not resolve, "
    "contact the election office. You can also vote at a polling station.",
    "back_to_step": "Back to the previous step",
    "try_again": "Try again",
    "start_over": "Start again",
    "csrf": "This action was not accepted. Reload the page and try again.",
    "board_unreachable": "The voting service cannot be reached. Nothing was sent. Check the "
    "internet connection and try again in a while.",
    "board_bad": "The voting service could not be confirmed as genuine. Do not vote from "
    "this page.",
    "not_recorded": "WARNING: the voting service said your ballot was accepted, but does NOT "
    "show it in the record. Your ballot may have been dropped or replaced. The evidence is "
    "saved on this computer. Tell the election office, and vote again from another place or "
    "at a polling station.",
    "no_reader": "No card reader was found. Connect the card reader and try again.",
    "no_card": "The card cannot be read. Place it flat on the reader and try again.",
    "password_empty": "Please enter the password.",
    "password_format": "The signing password is 6 to 16 letters and digits. It was not sent "
    "to the card (no try was used).",
    "code_bad_format": "This is not a voting code. Check the 16 characters on your postcard. "
    "Nothing was sent.",
    "code_busy": "Too many voting-code checks in a short time. Wait a minute and try again. "
    "Nothing was sent.",
    "not_voting": "This election is not open for voting now.",
    "no_election": "Please choose an election first.",
    "refused": "The ballot was not accepted. {reason} Nothing was recorded.",
    "not_found": "Page not found.",
}

_REASONS_JA: dict[Reason, str] = {
    Reason.ELECTION_NOT_AUTHORISED: "この登録機関はこの選挙の票を受け付けていません。"
    "投票のご案内に書かれた選挙のアドレスを確かめてください。",
    Reason.VOTING_NOT_OPEN: "この選挙の投票はまだ始まっていません。",
    Reason.VOTING_CLOSED: "この選挙の投票は締め切られました。何も記録されていません。",
    Reason.VOTER_ROLL_UNAVAILABLE: "いまこの選挙の選挙人名簿を確かめられません。"
    "何も記録されていません。しばらくしてからもう一度お試しください。",
    Reason.WRONG_PASSWORD: "パスワードがちがいます。あと{tries_left}回まちがえると、"
    "カードのパスワードがロックされます。",
    Reason.PASSWORD_BLOCKED: "パスワードを何度もまちがえたため、カードのパスワードがロックされてい"
    "ます。市区町村の窓口で初期化してください（本人確認書類が必要です）。",
    Reason.CARD_ERROR: "カードが読み取れません。カードをカードリーダーに正しく置いて、"
    "もう一度お試しください。",
    Reason.MALFORMED_REQUEST: "投票ソフトウェアが不完全な要求を送りました。"
    "更新してからもう一度お試しください。",
    Reason.CERTIFICATE_UNTRUSTED: "カードの電子証明書は J-LIS が発行したものではありません。",
    Reason.CERTIFICATE_NOT_YET_VALID: "カードの電子証明書はまだ有効になっていません。",
    Reason.CERTIFICATE_EXPIRED: "カードの電子証明書の有効期限が切れています。"
    "市区町村の窓口で更新してください。",
    Reason.CERTIFICATE_REVOKED: "カードの電子証明書は失効しています（転居や氏名の変更のあとなど）"
    "。市区町村の窓口で新しく発行を受けてください。",
    Reason.CERTIFICATE_WRONG_USAGE: "投票に使えない電子証明書で署名されました。署名用パスワード"
    "（6〜16文字）を使ってください。",
    Reason.REVOCATION_UNKNOWN: "電子証明書の状態をいま確かめられません。"
    "しばらくしてからもう一度お試しください。",
    Reason.SIGNATURE_MISMATCH: "カードの署名がこの票と一致しません。何も記録されていません。"
    "もう一度投票してください。",
    Reason.NOT_ELIGIBLE_AGE: "選挙期日にこの選挙の投票年齢に達していません。",
    Reason.NOT_ELIGIBLE_RESIDENCE: "カードの住所は、この選挙の対象地域にありません。"
    "最近転居した場合は、選挙管理委員会にお問い合わせください。",
    Reason.NOT_ON_VOTER_ROLL: "この選挙の選挙人名簿に登録されていません。"
    "選挙管理委員会にお問い合わせください。",
    Reason.VOTING_CODE_UNKNOWN: "投票コードがこの選挙のものではありません。"
    "はがきのコードを確かめてください。",
    Reason.VOTING_CODE_USED: "この投票コードは、すでにほかの人が使っています。"
    "お手元のはがきのコードか確かめてください。ご自分のはがきのコードなら、"
    "選挙管理委員会にお問い合わせください。投票所で投票することもできます。",
}


#: what to do next, after the refusal `jpki.reasons.explain` words in English
_ADVICE_EN: dict[Reason, str] = {
    Reason.VOTING_CODE_USED: "Check that it is the code on your own postcard. If it is, "
    "contact the election office; you can also vote at a polling station.",
    Reason.NOT_ELIGIBLE_RESIDENCE: "If you moved recently, contact the election office.",
    Reason.NOT_ON_VOTER_ROLL: "Contact the election office.",
}


def text(lang: str) -> dict[str, str]:
    """The page words of `lang` (Japanese for anything unknown)."""
    return _EN if lang == "en" else _JA


def reason_text(lang: str, reason: Reason, tries_left: int | None = None) -> str:
    """A refusal in plain words of `lang`."""
    if lang == "en":
        advice = _ADVICE_EN.get(reason)
        words = explain(reason, tries_left=tries_left)
        return f"{words} {advice}" if advice else words
    words = _REASONS_JA[reason]
    return words.format(tries_left="何" if tries_left is None else tries_left)


def when(lang: str, value: dt.date | dt.datetime) -> str:
    """A date (or a time, in its own time zone) as a voter reads it: 2026年12月6日(日) 20:00,
    or Sun 6 Dec 2026, 20:00 (UTC+09:00) in English."""
    if lang != "en":
        day = f"{value.year}年{value.month}月{value.day}日({_WEEKDAYS_JA[value.weekday()]})"
        return day + (f" {value:%H:%M}" if isinstance(value, dt.datetime) else "")
    day = f"{value:%a} {value.day} {value:%b %Y}"
    if not isinstance(value, dt.datetime):
        return day
    zone = value.strftime("%z")
    return f"{day}, {value:%H:%M}" + (f" (UTC{zone[:3]}:{zone[3:]})" if zone else "")
