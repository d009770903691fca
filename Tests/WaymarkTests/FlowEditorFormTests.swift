import Catalog
import Foundation
import Testing
import Waymark

/// The flow editor's form as a value: reading the posted fields, its buttons, the draft it
/// makes and the renaming of validation keys back to the form's rows. No database.
@Suite struct FlowEditorFormTests {
    let posted: [(String, String)] = [
        ("name", " Spring "), ("workspace_id", "7"),
        ("paths[1][name]", "Default"), ("paths[1][offers][0][id]", "11"), ("paths[1][offers][0][weight]", ""),
        ("paths[0][name]", "DE"), ("paths[0][rules][0][field]", ""), ("paths[0][rules][0][op]", "in"),
        ("paths[0][rules][0][values]", " "), ("paths[0][rules][3][field]", "param:"), ("paths[0][rules][3][param]", " zone "),
        ("paths[0][rules][3][op]", "contains"), ("paths[0][rules][3][values]", "12,\n13 ,, "),
        ("paths[0][landers][0][id]", ""), ("paths[0][landers][5][id]", "4"), ("paths[0][landers][5][weight]", "x"),
        ("paths[0][offers][0][id]", "10"), ("paths[0][offers][0][weight]", "3"), ("paths[0][bogus]", "ignored"),
        ("paths[x][name]", "ignored"), ("paths[0][rules][0][field]", "second value ignored"),
    ]

    @Test func theFieldsAreReadInIndexOrderWithGapsClosed() {
        let form = FlowEditorForm(fields: posted)
        #expect(form.name == "Spring" && form.workspaceID == "7")
        #expect(form.paths.map(\.name) == ["DE", "Default"])
        #expect(form.paths[0].rules.count == 2 && form.paths[0].rules[0].isBlank && form.paths[0].rules[0].field == "")
        #expect(form.paths[0].rules[1].fieldName == "param:zone" && form.paths[0].rules[1].op == "contains")
        #expect(form.paths[0].landers.map(\.id) == ["", "4"] && form.paths[0].landers[1].weight == "x")
    }

    @Test func theDraftDropsBlankRowsAndTheIndexNamesTheFormsRows() {
        let (draft, index) = FlowEditorForm(fields: posted).draft()
        #expect(draft.name == "Spring")
        #expect(draft.workspaceID == 7)
        #expect(draft.paths[0].rules == [FlowRule(field: "param:zone", op: "contains", values: ["12", "13"])])
        // A weight that is no number is 0, so validation names it; an empty one is 1.
        #expect(draft.paths[0].landers == [FlowPath.Weighted(id: 4, weight: 0)])
        #expect(draft.paths[1].offers == [FlowPath.Weighted(id: 11, weight: 1)])
        #expect(index.rules == [[1], []] && index.landers == [[1], []] && index.offers == [[0], [0]])
        #expect(index.formKey("paths[0].rules[0].values[1]") == "paths[0].rules[1].values[1]")
        #expect(index.formKey("paths[0].landers[0].weight") == "paths[0].landers[1].weight")
        #expect(index.formKey("paths[1].offers") == "paths[1].offers")
        #expect(index.formKey("name") == "name" && index.formKey("paths[9].rules[0].op") == "paths[9].rules[0].op")
    }

    @Test func aBlankPathNameBecomesPathN() {
        let (draft, _) = FlowEditorForm(fields: [("paths[0][name]", ""), ("paths[0][offers][0][id]", "1")]).draft()
        #expect(draft.paths.map(\.name) == ["Path 1"])
    }

    @Test func everyButtonValueIsReadAndOthersAreNot() {
        #expect(FlowEditorAction("save") == .save && FlowEditorAction("") == .save)
        #expect(FlowEditorAction("add_path") == .addPath)
        #expect(FlowEditorAction("remove_path:2") == .removePath(2))
        #expect(FlowEditorAction("move_up:1") == .movePath(1, up: true) && FlowEditorAction("move_down:0") == .movePath(0, up: false))
        #expect(FlowEditorAction("add_rule:1") == .addRow(.rule, path: 1))
        #expect(FlowEditorAction("remove_offer:1:3") == .removeRow(.offer, path: 1, row: 3))
        #expect(FlowEditorAction("lander_up:0:2") == .moveRowUp(.lander, path: 0, row: 2))
        for bad in [
            "drop_tables", "add_rule", "add_rule:x", "remove_path:-1", "remove_rule:1", "add_path:1", "move_up:99999999999999999999",
        ] {
            #expect(FlowEditorAction(bad) == nil, "\(bad)")
        }
    }

    @Test func theButtonsChangeTheFormAndOutOfRangeOnesDoNothing() {
        var form = FlowEditorForm.new(workspaceID: nil)
        #expect(form.paths.map(\.name) == ["Default"] && form.paths[0].rules.isEmpty)
        form.apply(.addPath)
        #expect(form.paths.map(\.name) == ["Path 2", "Default"] && form.paths[0].rules.count == 1)
        form.paths[0].offers[0].id = "5"
        form.paths[0].offers[1].id = "6"
        form.apply(.moveRowUp(.offer, path: 0, row: 1))
        #expect(form.paths[0].offers.map(\.id) == ["6", "5"])
        form.apply(.removeRow(.offer, path: 0, row: 0))
        #expect(form.paths[0].offers.map(\.id) == ["5"])
        form.apply(.addRow(.rule, path: 0))
        #expect(form.paths[0].rules.count == 2)
        form.apply(.movePath(0, up: false))
        #expect(form.paths.map(\.name) == ["Default", "Path 2"])
        let before = form
        for action in [
            FlowEditorAction.removePath(5), .movePath(0, up: true), .movePath(1, up: false), .addRow(.lander, path: 9),
            .removeRow(.rule, path: 0, row: 7), .moveRowUp(.offer, path: 1, row: 0), .moveRowUp(.offer, path: 1, row: 9),
        ] {
            form.apply(action)
        }
        #expect(form == before)
        form.apply(.removePath(0))
        #expect(form.paths.map(\.name) == ["Path 2"])
    }

    @Test func aStoredFlowComesBackWithRoomForOneMoreRow() {
        let flow = Flow(
            id: 1, workspaceID: nil, name: "F",
            paths: [
                FlowPath(
                    name: "Zone", rules: [FlowRule(field: "param:zone", op: "in", values: ["1", "2"])],
                    landers: [.init(id: 3, weight: 2)], offers: [.init(id: 4, weight: 1)]),
                FlowPath(name: "Default", rules: [], landers: [], offers: [.init(id: 4, weight: 1)]),
            ], createdAt: Date(), updatedAt: Date())
        let form = FlowEditorForm(flow)
        #expect(form.paths[0].rules.count == 2 && form.paths[0].rules[0].field == "param:" && form.paths[0].rules[0].param == "zone")
        #expect(form.paths[0].rules[0].values == "1, 2" && form.paths[1].rules.isEmpty)
        #expect(form.paths[0].landers.map(\.id) == ["3", ""] && form.paths[1].offers.map(\.weight) == ["1", ""])
        #expect(form.draft().0.paths == flow.paths)
    }

    @Test func rowsPastTheLimitsAreDropped() {
        let fields = (0..<200).map { ("paths[\($0)][name]", "P\($0)") }
        #expect(FlowEditorForm(fields: fields).paths.count == FlowValidation.maxPaths + 1)
    }
}
